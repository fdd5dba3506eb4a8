//! The settings layer seen from outside: the real binary, a clean environment, and for every
//! validation rule exit 2, nothing on stdout, and one message on stderr naming the setting, the
//! value and the rule (CONTRACT §3).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

/// One invocation of `apimfn` with no `APIMFN_*`/`AZURE_*` variables from the test's own
/// environment, `HOME` and the working directory in a fresh temporary directory.
struct Apimfn {
    cmd: Command,
    shown: String,
    dir: tempfile::TempDir,
}

impl Apimfn {
    fn new(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_apimfn"));
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            if k.starts_with("APIMFN_") || k.starts_with("AZURE_") {
                cmd.env_remove(&*k);
            }
        }
        cmd.env("HOME", dir.path())
            .env("NO_COLOR", "1")
            .current_dir(dir.path())
            .args(args);
        Self {
            cmd,
            shown: format!("apimfn {}", args.join(" ")),
            dir,
        }
    }

    fn env(mut self, k: &str, v: &str) -> Self {
        self.cmd.env(k, v);
        self.shown = format!("{k}={v} {}", self.shown);
        self
    }

    /// A file in the temporary directory (which is also the working directory).
    fn file(&self, name: &str, body: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, body).expect("write");
        path
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn arg(mut self, a: &str) -> Self {
        self.cmd.arg(a);
        self.shown = format!("{} {a}", self.shown);
        self
    }

    fn run(mut self) -> Outcome {
        let out = self.cmd.output().expect("run apimfn");
        Outcome {
            command: self.shown,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// What a run produced; printed whole when an assertion fails.
struct Outcome {
    command: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\n===== command\n{}", self.command)?;
        writeln!(f, "===== exit code\n{:?}", self.code)?;
        writeln!(f, "===== stdout\n{}", self.stdout)?;
        writeln!(f, "===== stderr\n{}=====", self.stderr)
    }
}

impl Outcome {
    /// Exit 2, empty stdout, exactly one `error:` line containing every needle.
    fn usage_error(&self, needles: &[&str]) {
        assert_eq!(self.code, Some(2), "exit code{self}");
        assert!(self.stdout.is_empty(), "stdout must be empty{self}");
        let lines: Vec<&str> = self.stderr.trim_end().lines().collect();
        assert_eq!(lines.len(), 1, "one message on stderr{self}");
        assert!(lines[0].starts_with("error: "), "error line{self}");
        for n in needles {
            assert!(self.stderr.contains(n), "stderr lacks {n:?}{self}");
        }
    }

    fn success(&self) {
        assert_eq!(self.code, Some(0), "exit code{self}");
    }

    fn json(&self) -> serde_json::Value {
        self.success();
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}{self}"))
    }
}

fn show(args: &[&str]) -> Apimfn {
    let mut all = vec!["config", "show"];
    all.extend_from_slice(args);
    Apimfn::new(&all)
}

// ---- one test per rule ----------------------------------------------------------------------

#[test]
fn subscription_must_be_a_guid() {
    show(&["-s", "not-a-guid"]).run().usage_error(&[
        "--subscription",
        "'not-a-guid'",
        "8-4-4-4-12 hexadecimal",
    ]);
}

#[test]
fn resource_group_must_not_end_with_a_period() {
    show(&["-g", "rg."]).run().usage_error(&[
        "--resource-group",
        "'rg.'",
        "not ending with a period",
    ]);
}

#[test]
fn location_must_be_the_programmatic_name() {
    show(&["-l", "Japan East"]).run().usage_error(&[
        "--location",
        "'Japan East'",
        "lowercase letters and digits only",
        "use the programmatic name, e.g. japaneast",
    ]);
}

#[test]
fn apim_name_must_start_with_a_letter() {
    show(&["--apim-name", "1apim"]).run().usage_error(&[
        "--apim-name",
        "'1apim'",
        "1–50 letters, digits and hyphens, starting with a letter",
    ]);
}

#[test]
fn function_app_name_from_the_environment_names_the_variable() {
    show(&[])
        .env("APIMFN_FUNCTION_APP_NAME", "My_App")
        .run()
        .usage_error(&[
            "invalid value 'My_App' for --function-app-name (from APIMFN_FUNCTION_APP_NAME): 2–60 letters, digits and hyphens, not starting or ending with a hyphen",
        ]);
}

#[test]
fn plan_name_allows_only_letters_digits_and_hyphens() {
    show(&["--plan-name", "plan_1"]).run().usage_error(&[
        "--plan-name",
        "'plan_1'",
        "1–60 letters, digits and hyphens",
    ]);
}

#[test]
fn storage_account_name_is_lowercase_alphanumeric() {
    show(&["--storage-account-name", "St-1"])
        .run()
        .usage_error(&[
            "--storage-account-name",
            "'St-1'",
            "3–24 lowercase letters and digits",
        ]);
}

#[test]
fn base_name_is_blamed_for_a_derived_name_that_breaks_a_rule() {
    show(&["-n", "My_App"]).run().usage_error(&[
        "invalid value 'My_App' for --name:",
        "the derived API Management name 'My_App-apim'",
        "starting with a letter",
        "set --apim-name",
    ]);
}

#[test]
fn base_name_too_long_for_the_derived_apim_name() {
    let long = "a".repeat(46);
    show(&["-n", &long]).run().usage_error(&[
        "--name",
        &long,
        "the derived API Management name",
        "1–50",
    ]);
}

#[test]
fn publisher_email_needs_a_dotted_domain() {
    show(&["--publisher-email", "ops@localhost"])
        .run()
        .usage_error(&["--publisher-email", "'ops@localhost'", "dotted domain"]);
}

#[test]
fn publisher_name_must_not_be_empty() {
    show(&["--publisher-name", ""]).run().usage_error(&[
        "--publisher-name",
        "''",
        "1–100 characters",
    ]);
}

#[test]
fn auth_mode_is_one_of_the_list() {
    show(&["--auth", "password"]).run().usage_error(&[
        "--auth",
        "'password'",
        "auto, cli, client-secret, workload-identity, managed-identity, azure-pipelines",
    ]);
}

#[test]
fn cloud_is_one_of_the_list() {
    show(&[])
        .env("APIMFN_CLOUD", "AzureGermanCloud")
        .run()
        .usage_error(&[
            "--cloud (from APIMFN_CLOUD)",
            "'AzureGermanCloud'",
            "AzureCloud, AzureChinaCloud, AzureUSGovernment",
        ]);
}

#[test]
fn output_is_text_or_json() {
    show(&["-o", "yaml"])
        .run()
        .usage_error(&["invalid value 'yaml' for --output: must be text or json"]);
}

#[test]
fn output_from_the_environment_is_validated_too() {
    show(&[]).env("APIMFN_OUTPUT", "xml").run().usage_error(&[
        "--output (from APIMFN_OUTPUT)",
        "'xml'",
        "text or json",
    ]);
}

#[test]
fn emulator_is_embedded_or_an_https_url() {
    show(&["--emulator", "http://127.0.0.1:1"])
        .run()
        .usage_error(&[
            "--emulator",
            "'http://127.0.0.1:1'",
            "`embedded` or an https:// URL",
        ]);
}

#[test]
fn emulator_ca_without_an_emulator_url_is_refused() {
    let a = show(&[]);
    let ca = a.file(
        "ca.pem",
        "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
    );
    a.arg("--emulator-ca")
        .arg(ca.to_str().expect("utf-8"))
        .run()
        .usage_error(&[
            "--emulator-ca",
            "ca.pem",
            "only meaningful with an --emulator URL",
        ]);
}

#[test]
fn emulator_ca_must_be_readable() {
    show(&[
        "--emulator",
        "https://127.0.0.1:1",
        "--emulator-ca",
        "nope.pem",
    ])
    .run()
    .usage_error(&[
        "--emulator-ca",
        "'nope.pem'",
        "cannot read the CA file",
        "os error",
    ]);
}

#[test]
fn config_file_unreadable_names_the_path_and_the_os_reason() {
    show(&["--config", "missing.toml"]).run().usage_error(&[
        "cannot read config file 'missing.toml' (from --config)",
        "os error",
    ]);
}

#[test]
fn config_file_malformed_gives_line_and_column() {
    let a = show(&[]);
    a.file("apimfn.toml", "name = \"demo\"\nlocation = japaneast\n");
    a.env("APIMFN_CONFIG", "apimfn.toml").run().usage_error(&[
        "malformed config file 'apimfn.toml' (from APIMFN_CONFIG) at line 2, column 12",
    ]);
}

#[test]
fn config_file_unknown_key_is_an_error_naming_key_and_file() {
    let a = show(&["--config", "apimfn.toml"]);
    a.file("apimfn.toml", "resource_grup = \"rg\"\n");
    a.run().usage_error(&[
        "unknown key 'resource_grup'",
        "apimfn.toml",
        "did you mean 'resource_group'?",
    ]);
}

#[test]
fn config_file_wrong_type_is_an_error() {
    let a = show(&["--config", "apimfn.toml"]);
    a.file("apimfn.toml", "location = 42\n");
    a.run().usage_error(&[
        "key 'location'",
        "apimfn.toml",
        "must be a string, found integer 42",
    ]);
}

#[test]
fn invalid_value_in_the_config_file_names_the_key_and_the_file() {
    let a = show(&["--config", "apimfn.toml"]);
    a.file("apimfn.toml", "storage_account_name = \"Bad_Name\"\n");
    a.run().usage_error(&[
        "invalid value 'Bad_Name' for --storage-account-name (from key storage_account_name in apimfn.toml)",
        "3–24 lowercase letters and digits",
    ]);
}

// ---- config show ----------------------------------------------------------------------------

#[test]
fn config_show_json_has_the_derived_names_and_sources() {
    let v = show(&["-o", "json", "-n", "demo", "-s", SUB, "-l", "japaneast"])
        .run()
        .json();
    assert_eq!(v["name"], "demo");
    assert_eq!(v["subscription"], SUB);
    assert_eq!(v["location"], "japaneast");
    assert_eq!(v["resourceGroup"], "demo-rg");
    assert_eq!(v["apimName"], "demo-apim");
    assert_eq!(v["functionAppName"], "demo-func");
    assert_eq!(v["planName"], "demo-plan");
    let st = v["storageAccountName"].as_str().expect("storage name");
    assert!(st.starts_with("stdemo") && st.len() == 14, "{st}");
    assert!(
        st.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{st}"
    );
    let container = v["deploymentContainerName"].as_str().expect("container");
    assert!(
        container.starts_with("app-package-demo-func-"),
        "{container}"
    );
    assert_eq!(v["publisherEmail"], serde_json::Value::Null);
    assert_eq!(v["publisherName"], "apimfn");
    assert_eq!(v["sources"]["name"], "flag");
    assert_eq!(v["sources"]["apimName"], "derived");
    assert_eq!(v["sources"]["auth"], "default");
    assert_eq!(v["credentials"]["clientSecret"], "unset");
}

#[test]
fn config_show_storage_name_is_stable_across_runs() {
    let a = show(&["-o", "json", "-n", "demo", "-s", SUB]).run().json();
    let b = show(&["-o", "json"])
        .env("APIMFN_NAME", "demo")
        .env("AZURE_SUBSCRIPTION_ID", SUB)
        .run()
        .json();
    assert_eq!(a["storageAccountName"], b["storageAccountName"]);
}

#[test]
fn output_format_comes_from_the_environment() {
    let v = show(&[]).env("APIMFN_OUTPUT", "json").run().json();
    assert_eq!(v["output"], "json");
    assert_eq!(v["sources"]["output"], "env");
}

#[test]
fn output_format_comes_from_the_config_file_and_the_flag_wins() {
    let a = show(&["--config", "apimfn.toml"]);
    a.file("apimfn.toml", "output = \"json\"\nname = \"demo\"\n");
    let v = a.env("APIMFN_NAME", "fromenv").run().json();
    assert_eq!(v["name"], "fromenv");
    assert_eq!(v["sources"]["output"], "file");

    let a = show(&["--config", "apimfn.toml", "-o", "text"]);
    a.file("apimfn.toml", "output = \"json\"\n");
    let out = a.run();
    out.success();
    assert!(out.stdout.contains("output "), "{out}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&out.stdout).is_err(),
        "{out}"
    );
}

#[test]
fn config_show_text_lists_values_and_sources() {
    let a = show(&["-g", "my-rg"]);
    a.file("apimfn.toml", "name = \"demo\"\n");
    let out = a.env("APIMFN_CONFIG", "apimfn.toml").run();
    out.success();
    assert!(out.stderr.is_empty(), "{out}");
    for needle in [
        "resource_group",
        "my-rg",
        "(flag)",
        "(file apimfn.toml)",
        "demo-apim",
        "(derived from name)",
        "publisher_email",
        "<unset>",
        "AZURE_CLIENT_SECRET",
    ] {
        assert!(out.stdout.contains(needle), "stdout lacks {needle:?}{out}");
    }
}

#[test]
fn config_show_never_prints_a_credential_value() {
    let secret = "Sup3r-Secret-Value~123";
    for format in ["text", "json"] {
        let out = show(&["-o", format])
            .env("AZURE_CLIENT_SECRET", secret)
            .env("AZURE_CLIENT_ID", "11111111-1111-1111-1111-111111111111")
            .run();
        out.success();
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "{out}"
        );
        assert!(!out.stdout.contains("11111111-1111"), "{out}");
        if format == "json" {
            let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
            assert_eq!(v["credentials"]["clientSecret"], "set");
            assert_eq!(v["credentials"]["clientId"], "set");
        }
    }
}

#[test]
fn empty_environment_variables_count_as_unset() {
    let v = show(&["-o", "json"])
        .env("APIMFN_NAME", "")
        .env("AZURE_SUBSCRIPTION_ID", "")
        .run()
        .json();
    assert_eq!(v["name"], serde_json::Value::Null);
    assert_eq!(v["sources"]["subscription"], "unset");
}

// ---- before any network call ----------------------------------------------------------------

/// `status` would talk to Azure (here: to an emulator address where nothing listens). An invalid
/// setting must stop it first, with the validation message and nothing else: no connection
/// error, no "not available yet". The request-log assertion comes with the emulator.
#[test]
fn invalid_setting_stops_before_any_network_call() {
    let out = Apimfn::new(&[
        "status",
        "--emulator",
        "https://127.0.0.1:1",
        "-n",
        "demo",
        "-s",
        "not-a-guid",
    ])
    .run();
    out.usage_error(&["invalid value 'not-a-guid' for --subscription"]);
    for word in ["connect", "not available yet", "Caused by"] {
        assert!(!out.stderr.contains(word), "{word:?}{out}");
    }
}

#[test]
fn completions_work_even_with_an_invalid_setting_in_the_environment() {
    let out = Apimfn::new(&["completions", "bash"])
        .env("APIMFN_OUTPUT", "yaml")
        .run();
    out.success();
    assert!(out.stdout.contains("apimfn"), "{out}");
}

#[test]
fn relative_emulator_ca_in_the_config_file_is_relative_to_the_file() {
    let a = show(&["-o", "json", "--config", "conf/apimfn.toml"]);
    std::fs::create_dir(a.dir().join("conf")).expect("mkdir");
    a.file(
        "conf/ca.pem",
        "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
    );
    a.file(
        "conf/apimfn.toml",
        "emulator = \"https://127.0.0.1:1\"\nemulator_ca = \"ca.pem\"\n",
    );
    let v = a.run().json();
    assert_eq!(v["emulatorCa"], "conf/ca.pem");
    assert_eq!(v["sources"]["emulatorCa"], "file");
}
