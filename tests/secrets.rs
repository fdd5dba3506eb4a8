//! No secret ever appears in output, at any verbosity (CONTRACT §4): a whole `setup` at `-vvv`,
//! then `verify`, `status` and `plan` at `-vvv`, are scanned for every secret value the emulator
//! holds — the client secret, every host key and the master key, APIM's subscription keys, the
//! named value — and for anything shaped like a bearer token.

mod support;

use serde_json::Value;
use support::emulated::Emu;

const WEB: &str = "2024-04-01";
const APIM: &str = "2024-05-01";

fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() >= 16 => out.push(s.clone()),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_any_output_at_the_highest_verbosity() {
    let emu = Emu::start_named(0.0005, "sec").await;
    let mut printed = String::new();
    for args in [
        &["setup", "-vvv"][..],
        &["setup", "-vvv", "-o", "json"],
        &["verify", "-vvv", "-o", "json"],
        &["status", "-vvv"],
        &["plan", "-vvv", "-o", "json"],
    ] {
        let run = emu.run(args).await;
        run.ok();
        printed.push_str(&run.stdout);
        printed.push_str(&run.stderr);
    }
    assert!(
        printed.contains("DEBUG") || printed.contains("TRACE"),
        "-vvv should log requests"
    );

    let azure = emu.azure().await;
    let sub = emu.subscription().to_string();
    let rg = format!("/subscriptions/{sub}/resourceGroups/sec-rg");
    let site = format!("{rg}/providers/Microsoft.Web/sites/sec-func");
    let svc = format!("{rg}/providers/Microsoft.ApiManagement/service/sec-apim");
    let mut secrets = vec![emu.running.ready.client_secret.clone()];
    let keys = azure
        .arm
        .post(&format!("{site}/host/default/listkeys"), WEB, None)
        .await
        .expect("listkeys")
        .expect("keys");
    strings(&keys, &mut secrets);
    let master = azure
        .arm
        .post(
            &format!("{svc}/subscriptions/master/listSecrets"),
            APIM,
            None,
        )
        .await
        .expect("listSecrets")
        .expect("subscription keys");
    strings(&master, &mut secrets);
    let nv = azure
        .arm
        .post(
            &format!("{svc}/namedValues/sec-func-key/listValue"),
            APIM,
            None,
        )
        .await
        .expect("listValue")
        .expect("named value");
    strings(&nv, &mut secrets);
    assert!(
        secrets.len() >= 5,
        "the scan needs the secrets to look for: {secrets:?}"
    );

    for secret in &secrets {
        assert!(
            !printed.contains(secret.as_str()),
            "a secret value ({}…) appears in the output",
            &secret[..4]
        );
    }
    // Bearer tokens (JWTs start with a base64url `{"`): never printed, at any verbosity.
    assert!(
        !printed.contains("eyJ"),
        "something shaped like a token appears in the output"
    );
}
