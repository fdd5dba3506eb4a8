//! Unit tests of resolution: precedence per setting, derivation, messages.

use super::*;
use std::path::Path;

const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const CA_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

fn config_file(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("apimfn.toml");
    std::fs::write(&path, body).expect("write config");
    path
}

/// Flag setter, and three valid values: (flag, env, file).
type Setter = fn(&mut GlobalArgs, String);
type Case = (Key, Setter, [&'static str; 3]);

fn cases() -> Vec<Case> {
    vec![
        (
            Key::Subscription,
            |g, v| g.subscription = Some(v),
            [
                SUB,
                "1b1f6471-1bf0-4dda-aec3-cb9272f09590",
                "2b1f6471-1bf0-4dda-aec3-cb9272f09590",
            ],
        ),
        (
            Key::ResourceGroup,
            |g, v| g.resource_group = Some(v),
            ["rg-flag", "rg-env", "rg-file"],
        ),
        (
            Key::Location,
            |g, v| g.location = Some(v),
            ["japaneast", "westeurope", "eastus2"],
        ),
        (Key::Name, |g, v| g.name = Some(v), ["flag", "env", "file"]),
        (
            Key::ApimName,
            |g, v| g.apim_name = Some(v),
            ["apim-flag", "apim-env", "apim-file"],
        ),
        (
            Key::FunctionAppName,
            |g, v| g.function_app_name = Some(v),
            ["fn-flag", "fn-env", "fn-file"],
        ),
        (
            Key::PlanName,
            |g, v| g.plan_name = Some(v),
            ["p-flag", "p-env", "p-file"],
        ),
        (
            Key::StorageAccountName,
            |g, v| g.storage_account_name = Some(v),
            ["stflag", "stenv", "stfile"],
        ),
        (
            Key::PublisherEmail,
            |g, v| g.publisher_email = Some(v),
            ["flag@example.com", "env@example.com", "file@example.com"],
        ),
        (
            Key::PublisherName,
            |g, v| g.publisher_name = Some(v),
            ["Flag", "Env", "File"],
        ),
        (
            Key::Auth,
            |g, v| g.auth = Some(v),
            ["cli", "client-secret", "managed-identity"],
        ),
        (
            Key::Cloud,
            |g, v| g.cloud = Some(v),
            ["AzureChinaCloud", "AzureUSGovernment", "AzureCloud"],
        ),
        (
            Key::Emulator,
            |g, v| g.emulator = Some(v),
            ["https://127.0.0.1:1", "https://127.0.0.1:2", "embedded"],
        ),
        (
            Key::Output,
            |g, v| g.output = Some(v),
            ["json", "text", "json"],
        ),
    ]
}

fn shown_value(s: &Settings, key: Key) -> Option<String> {
    let v = show::to_json(s);
    v[key.json_key()].as_str().map(str::to_string)
}

#[test]
fn flag_beats_env_beats_file_beats_default_for_every_setting() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (key, set_flag, [flag, env, file]) in cases() {
        let var = key.env().expect("env var");
        let path = config_file(dir.path(), &format!("{} = \"{file}\"\n", key.name()));
        let with_file = |g: &mut GlobalArgs| g.config = Some(path.clone());

        let mut g = GlobalArgs::default();
        with_file(&mut g);
        set_flag(&mut g, flag.to_string());
        let s = resolve(&g, &env_of(&[(var, env)])).expect("resolve");
        assert_eq!(shown_value(&s, key).as_deref(), Some(flag), "{key:?} flag");
        assert_eq!(s.source(key), &Source::Flag, "{key:?}");

        let mut g = GlobalArgs::default();
        with_file(&mut g);
        let s = resolve(&g, &env_of(&[(var, env)])).expect("resolve");
        assert_eq!(shown_value(&s, key).as_deref(), Some(env), "{key:?} env");
        assert_eq!(s.source(key), &Source::Env(var), "{key:?}");

        // Empty means unset, as in az: the file's value shows through.
        let s = resolve(&g, &env_of(&[(var, "")])).expect("resolve");
        assert_eq!(shown_value(&s, key).as_deref(), Some(file), "{key:?} file");
        assert_eq!(s.source(key), &Source::File(path.clone()), "{key:?}");

        let s = resolve(&GlobalArgs::default(), &env_of(&[])).expect("resolve");
        let default = Settings::default();
        assert_eq!(
            shown_value(&s, key),
            shown_value(&default, key),
            "{key:?} default"
        );
        assert_eq!(s.source(key), default.source(key), "{key:?}");
    }
}

#[test]
fn config_file_comes_from_flag_before_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = config_file(dir.path(), "name = \"from-a\"\n");
    let b = dir.path().join("b.toml");
    std::fs::write(&b, "name = \"from-b\"\n").expect("write");
    let g = GlobalArgs {
        config: Some(a.clone()),
        ..Default::default()
    };
    let env = env_of(&[("APIMFN_CONFIG", b.to_str().expect("utf-8"))]);
    let s = resolve(&g, &env).expect("resolve");
    assert_eq!(s.name.as_deref(), Some("from-a"));
    assert_eq!(s.config_file.as_deref(), Some(a.as_path()));
    let s = resolve(&GlobalArgs::default(), &env).expect("resolve");
    assert_eq!(s.name.as_deref(), Some("from-b"));
    assert_eq!(s.source(Key::Config), &Source::Env("APIMFN_CONFIG"));
}

#[test]
fn names_derive_from_the_base_name() {
    let env = env_of(&[("APIMFN_NAME", "demo"), ("AZURE_SUBSCRIPTION_ID", SUB)]);
    let s = resolve(&GlobalArgs::default(), &env).expect("resolve");
    assert_eq!(s.resource_group().ok(), Some("demo-rg"));
    assert_eq!(s.apim_name().ok(), Some("demo-apim"));
    assert_eq!(s.function_app_name().ok(), Some("demo-func"));
    assert_eq!(s.plan_name().ok(), Some("demo-plan"));
    assert_eq!(
        s.storage_account_name().ok(),
        Some(names::storage_account(SUB, "demo-rg", "demo").as_str())
    );
    assert_eq!(
        s.deployment_container_name().ok(),
        Some(names::deployment_container("demo-func").as_str())
    );
    assert_eq!(s.source(Key::ApimName), &Source::Derived("name"));
}

#[test]
fn storage_hash_uses_the_overridden_resource_group() {
    let g = GlobalArgs {
        name: Some("demo".into()),
        subscription: Some(SUB.into()),
        resource_group: Some("shared".into()),
        ..Default::default()
    };
    let s = resolve(&g, &env_of(&[])).expect("resolve");
    assert_eq!(
        s.storage_account_name,
        Some(names::storage_account(SUB, "shared", "demo"))
    );
}

#[test]
fn storage_is_not_derived_without_a_subscription() {
    let g = GlobalArgs {
        name: Some("demo".into()),
        ..Default::default()
    };
    let s = resolve(&g, &env_of(&[])).expect("resolve");
    assert_eq!(s.storage_account_name, None);
    let err = s.storage_account_name().unwrap_err().message;
    assert!(err.contains("--name and --subscription"), "{err}");
}

#[test]
fn a_derived_name_that_breaks_a_rule_blames_the_base_name() {
    let env = env_of(&[("APIMFN_NAME", "My_App")]);
    let err = resolve(&GlobalArgs::default(), &env).unwrap_err().message;
    assert!(
        err.starts_with("invalid value 'My_App' for --name (from APIMFN_NAME): the derived API Management name 'My_App-apim'"),
        "{err}"
    );
    assert!(err.contains("set --apim-name"), "{err}");
    // Too long for APIM (45 + "-apim" > 50) but overridden: fine.
    let g = GlobalArgs {
        name: Some("a".repeat(46)),
        apim_name: Some("short".into()),
        ..Default::default()
    };
    assert!(resolve(&g, &env_of(&[])).is_ok());
    let g = GlobalArgs {
        name: Some("a".repeat(46)),
        ..Default::default()
    };
    let err = resolve(&g, &env_of(&[])).unwrap_err().message;
    assert!(
        err.contains("for --name: the derived API Management name"),
        "{err}"
    );
}

#[test]
fn messages_name_the_setting_and_where_the_value_came_from() {
    let env = env_of(&[("APIMFN_FUNCTION_APP_NAME", "My_App")]);
    let err = resolve(&GlobalArgs::default(), &env).unwrap_err().message;
    assert_eq!(
        err,
        format!(
            "invalid value 'My_App' for --function-app-name (from APIMFN_FUNCTION_APP_NAME): {}",
            rules::FUNCTION_APP_NAME
        )
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config_file(dir.path(), "subscription = \"nope\"\n");
    let g = GlobalArgs {
        config: Some(path.clone()),
        ..Default::default()
    };
    let err = resolve(&g, &env_of(&[])).unwrap_err().message;
    assert_eq!(
        err,
        format!(
            "invalid value 'nope' for --subscription (from key subscription in {}): {}",
            path.display(),
            rules::SUBSCRIPTION
        )
    );
}

#[test]
fn each_rule_is_applied_to_its_setting() {
    let bad: [(Key, Setter, &str); 12] = [
        (Key::Subscription, |g, v| g.subscription = Some(v), "xyz"),
        (Key::ResourceGroup, |g, v| g.resource_group = Some(v), "rg."),
        (Key::Location, |g, v| g.location = Some(v), "Japan East"),
        (Key::ApimName, |g, v| g.apim_name = Some(v), "1apim"),
        (
            Key::FunctionAppName,
            |g, v| g.function_app_name = Some(v),
            "-fn",
        ),
        (Key::PlanName, |g, v| g.plan_name = Some(v), "plan_1"),
        (
            Key::StorageAccountName,
            |g, v| g.storage_account_name = Some(v),
            "St1",
        ),
        (
            Key::PublisherEmail,
            |g, v| g.publisher_email = Some(v),
            "ops@localhost",
        ),
        (Key::PublisherName, |g, v| g.publisher_name = Some(v), ""),
        (Key::Auth, |g, v| g.auth = Some(v), "password"),
        (Key::Cloud, |g, v| g.cloud = Some(v), "AzureGermanCloud"),
        (Key::Output, |g, v| g.output = Some(v), "yaml"),
    ];
    for (key, set, value) in bad {
        let mut g = GlobalArgs::default();
        set(&mut g, value.to_string());
        let err = resolve(&g, &env_of(&[])).unwrap_err().message;
        assert!(
            err.starts_with(&format!("invalid value '{value}' for {}: ", key.flag())),
            "{key:?}: {err}"
        );
    }
}

#[test]
fn emulator_ca_needs_an_emulator_url_and_a_readable_pem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, CA_PEM).expect("write");
    let with = |emulator: Option<&str>, ca: &Path| GlobalArgs {
        emulator: emulator.map(str::to_string),
        emulator_ca: Some(ca.to_path_buf()),
        ..Default::default()
    };
    let s = resolve(&with(Some("https://127.0.0.1:9"), &ca), &env_of(&[])).expect("ok");
    assert_eq!(s.emulator_ca.as_deref(), Some(ca.as_path()));
    assert_eq!(s.emulator_url().map(|u| u.port()), Some(Some(9)));
    for emulator in [None, Some("embedded")] {
        let err = resolve(&with(emulator, &ca), &env_of(&[]))
            .unwrap_err()
            .message;
        assert!(
            err.contains("for --emulator-ca: only meaningful with an --emulator URL"),
            "{err}"
        );
    }
    let missing = dir.path().join("missing.pem");
    let err = resolve(&with(Some("https://127.0.0.1:9"), &missing), &env_of(&[]))
        .unwrap_err()
        .message;
    assert!(err.contains("cannot read the CA file"), "{err}");
    let not_pem = dir.path().join("apimfn.toml");
    std::fs::write(&not_pem, "x").expect("write");
    let err = resolve(&with(Some("https://127.0.0.1:9"), &not_pem), &env_of(&[]))
        .unwrap_err()
        .message;
    assert!(err.contains("BEGIN CERTIFICATE"), "{err}");
}

#[test]
fn a_relative_emulator_ca_in_the_file_is_relative_to_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ca.pem"), CA_PEM).expect("write");
    let path = config_file(
        dir.path(),
        "emulator = \"https://127.0.0.1:9\"\nemulator_ca = \"ca.pem\"\n",
    );
    let g = GlobalArgs {
        config: Some(path),
        ..Default::default()
    };
    let s = resolve(&g, &env_of(&[])).expect("resolve");
    assert_eq!(s.emulator_ca, Some(dir.path().join("ca.pem")));
    assert!(!s.emulator_embedded());
}

#[test]
fn missing_required_settings_say_where_to_set_them() {
    let s = resolve(&GlobalArgs::default(), &env_of(&[])).expect("resolve");
    assert_eq!(
        s.subscription().unwrap_err().message,
        "missing required setting --subscription (env AZURE_SUBSCRIPTION_ID, config key subscription)"
    );
    assert_eq!(
        s.location().unwrap_err().message,
        "missing required setting --location (env APIMFN_LOCATION, config key location)"
    );
    assert!(
        s.apim_name()
            .unwrap_err()
            .message
            .ends_with("; or set --name to derive it")
    );
    assert!(s.publisher_email().is_err());
    assert!(s.deployment_container_name().is_err());
    assert_eq!(s.publisher_name, DEFAULT_PUBLISHER_NAME);
}

#[test]
fn credentials_record_presence_only() {
    let env = env_of(&[
        ("AZURE_CLIENT_SECRET", "shh-very-secret"),
        ("AZURE_TENANT_ID", ""),
    ]);
    let s = resolve(&GlobalArgs::default(), &env).expect("resolve");
    assert!(s.credentials.client_secret);
    assert!(!s.credentials.tenant_id);
    assert!(!format!("{s:?}").contains("shh-very-secret"));
}

#[test]
fn subscription_is_lowercased_and_control_characters_are_escaped_in_messages() {
    let g = GlobalArgs {
        subscription: Some(SUB.to_uppercase()),
        ..Default::default()
    };
    assert_eq!(
        resolve(&g, &env_of(&[]))
            .expect("ok")
            .subscription
            .as_deref(),
        Some(SUB)
    );
    let g = GlobalArgs {
        location: Some("east\u{1b}[31mus".into()),
        ..Default::default()
    };
    let err = resolve(&g, &env_of(&[])).unwrap_err().message;
    assert!(!err.contains('\u{1b}'), "{err}");
    assert!(err.contains("\\u{1b}"), "{err}");
}

#[test]
fn json_keys_are_camel_case() {
    assert_eq!(Key::StorageAccountName.json_key(), "storageAccountName");
    assert_eq!(Key::EmulatorCa.json_key(), "emulatorCa");
}
