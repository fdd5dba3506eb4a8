//! Bad input for every setting and every command flag: exit 2, one message naming the setting
//! (or flag), the rule and the value — and not one request reaches the emulator (its request log
//! stays empty: no token request either).

mod support;

use support::emulated::Emu;

/// `(command and flags, what the message must name)`; the command line also carries a valid
/// `--emulator`/`--emulator-ca` and, through the environment, a valid name, location and e-mail.
const CASES: &[(&[&str], &str)] = &[
    (&["setup", "-s", "not-a-guid"], "--subscription"),
    (&["setup", "-g", "bad/rg"], "--resource-group"),
    (&["setup", "-l", "Japan East!"], "--location"),
    (&["setup", "-n", "Demo_1"], "--name"),
    (&["setup", "--apim-name", "1apim"], "--apim-name"),
    (
        &["setup", "--function-app-name", "a_b"],
        "--function-app-name",
    ),
    (&["setup", "--plan-name", "bad/plan"], "--plan-name"),
    (
        &["setup", "--storage-account-name", "UPPER"],
        "--storage-account-name",
    ),
    (
        &["setup", "--publisher-email", "not-an-email"],
        "--publisher-email",
    ),
    (
        &["setup", "--publisher-name", "a\u{7}b"],
        "--publisher-name",
    ),
    (&["setup", "--auth", "magic"], "--auth"),
    (&["setup", "--cloud", "Mars"], "--cloud"),
    (&["setup", "-o", "yaml"], "--output"),
    (
        &["setup", "--config", "/nonexistent/apimfn.toml"],
        "--config",
    ),
    (&["setup", "--timeout", "soon"], "--timeout"),
    (&["setup", "--client-id", "not-a-guid"], "--client-id"),
    (&["plan", "--client-id", "not-a-guid"], "--client-id"),
    (
        &["api", "import", "--api-path", "/leading-slash"],
        "--api-path",
    ),
    (
        &["function", "deploy", "--source", "/nonexistent/src"],
        "--source",
    ),
    (&["auth", "configure", "--client-id", "nope"], "--client-id"),
    (
        &[
            "apim",
            "create",
            "-s",
            "00000000-0000-0000-0000-00000000000g",
        ],
        "--subscription",
    ),
    (&["function", "create", "-l", "JAPAN-EAST"], "--location"),
    (&["verify", "-g", "rg."], "--resource-group"),
    (&["status", "--apim-name", ""], "--apim-name"),
    (
        &["destroy", "--yes", "--storage-account-name", "st"],
        "--storage-account-name",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_setting_is_exit_2_naming_it_before_any_request() {
    let emu = Emu::start_named(0.001, "bad").await;
    for (args, names) in CASES {
        emu.clear_log();
        let run = emu.run(args).await;
        run.expect_code(2);
        assert!(
            run.stderr.contains(names) && run.stderr.contains("error:"),
            "{args:?}: the message must name {names}:\n{}",
            run.stderr
        );
        let log = emu.log();
        assert!(
            log.is_empty(),
            "{args:?} sent {} request(s) before refusing: {:?}",
            log.len(),
            log.iter()
                .map(|e| format!("{} {}{}", e.method, e.host, e.path))
                .collect::<Vec<_>>()
        );
    }
}

/// Environment variables, extra flags, and what the message must name.
type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<String>, &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn bad_settings_from_the_environment_and_the_config_file_name_their_source() {
    let emu = Emu::start_named(0.001, "bad").await;
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("apimfn.toml");
    std::fs::write(&config, "plan_name = \"bad/plan\"\n").expect("config");
    let malformed = dir.path().join("broken.toml");
    std::fs::write(&malformed, "name = [unterminated\n").expect("config");

    let cases: Vec<Case> = vec![
        (vec![("APIMFN_NAME", "Demo_1")], vec![], "APIMFN_NAME"),
        (
            vec![("APIMFN_LOCATION", "Japan East")],
            vec![],
            "APIMFN_LOCATION",
        ),
        (vec![("APIMFN_OUTPUT", "yaml")], vec![], "APIMFN_OUTPUT"),
        (
            vec![("AZURE_SUBSCRIPTION_ID", "nope")],
            vec![],
            "AZURE_SUBSCRIPTION_ID",
        ),
        (
            vec![],
            vec!["--config".into(), config.display().to_string()],
            "plan_name",
        ),
        (
            vec![],
            vec!["--config".into(), malformed.display().to_string()],
            "broken.toml",
        ),
    ];
    for (env, flags, names) in cases {
        emu.clear_log();
        let mut cmd = emu.command(&["setup"]);
        cmd.args(&flags);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let out = cmd.output().await.expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?} {flags:?}:\n{stderr}");
        assert!(stderr.contains(names), "{env:?} {flags:?}: {stderr}");
        assert!(
            emu.log().is_empty(),
            "{env:?} {flags:?}: requests were sent"
        );
    }
}
