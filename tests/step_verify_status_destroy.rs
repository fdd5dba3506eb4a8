//! `apimfn verify`, `status` and `destroy` against the emulator.

mod support;

use support::emulated::{Emu, show, writes};

#[tokio::test(flavor = "multi_thread")]
async fn status_on_nothing_reports_everything_missing_and_writes_nothing() {
    let emu = Emu::start(0.0005).await;
    let run = emu.run(&["status", "-o", "json"]).await;
    run.ok();
    let out = run.json();
    assert_eq!(out["complete"], false, "{out}");
    let resources = out["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 16, "{out}");
    for r in resources {
        assert_eq!(r["state"], "missing", "{r}");
        assert_eq!(r["exists"], false, "{r}");
    }
    let todo = out["setupWouldDo"].as_array().expect("todo");
    assert_eq!(todo[0], "create the resource group t1-rg", "{out}");
    assert_eq!(out["requests"]["writes"], 0);
    let log = emu.log();
    assert!(
        writes(&log).is_empty(),
        "status wrote:\n{}",
        show(&writes(&log))
    );

    let text = emu.run(&["status"]).await;
    text.ok();
    assert!(
        text.stdout.contains("setup would still:"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("resource group"), "{}", text.stdout);
}
