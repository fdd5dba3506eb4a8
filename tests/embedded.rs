//! The README's first command, `apimfn setup --emulator embedded`, exactly as a newcomer runs it:
//! no setting at all, the in-process emulator at its default time scale (0.01), its state under
//! `$XDG_STATE_HOME`. It must end verified, print where the state lives and what it created; a
//! second run against the same state converges (zero writes) and `plan` shows no changes.
//! (Its wall time is a benchmark figure — docs/performance.md — not asserted here.)

use std::process::Command;

fn apimfn(state: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_apimfn"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", state)
        .env("XDG_STATE_HOME", state)
        .args(args)
        .args(["--emulator", "embedded", "--no-progress"])
        .output()
        .expect("run apimfn");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_first_command_needs_no_setting_ends_verified_and_converges() {
    let dir = tempfile::tempdir().expect("tmp");
    let (code, stdout, stderr) = apimfn(dir.path(), &["setup"]);
    assert_eq!(code, 0, "--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let state = dir.path().join("apimfn").join("emulator");
    assert!(
        stderr.contains(&format!("state in {}", state.display())),
        "where the state lives: {stderr}"
    );
    assert!(stderr.contains("verify: passed"), "{stderr}");
    for created in [
        "create  APIM service",
        "create  function app",
        "create  app registration",
        "create  API policy",
    ] {
        assert!(stdout.contains(created), "{created}:\n{stdout}");
    }
    assert!(
        stdout.contains("API: https://apimfn-demo-apim.azure-api.net/"),
        "{stdout}"
    );

    let (code, stdout, stderr) = apimfn(dir.path(), &["setup", "-o", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let out: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(out["requests"]["writes"], 0, "a second run writes nothing");
    assert_eq!(out["verify"]["passed"], true);

    let (code, stdout, stderr) = apimfn(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "no changes pending:\n{stdout}\n{stderr}");
    assert!(stdout.contains("No changes"), "{stdout}");
}
