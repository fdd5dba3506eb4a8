//! Benchmark 3: N environments provisioned at once (separate names, one emulator = one
//! subscription, one principal) under the emulator's ARM throttling (on by default).

use super::Section;
use super::emu::{Emu, finish, tail};
use super::reqlog;
use super::table::{Table, median, median_count, num};
use std::path::Path;
use std::time::Instant;

pub const SCALE: f64 = 0.01;

/// One run of N setups at once.
struct Round {
    total_s: f64,
    slowest_s: f64,
    requests: usize,
    throttled: usize,
    failures: Vec<String>,
}

async fn round(bin: &Path, n: usize) -> anyhow::Result<Round> {
    let emu = Emu::start(SCALE).await?;
    let mut set = tokio::task::JoinSet::new();
    let started = Instant::now();
    for i in 1..=n {
        let name = format!("e{i:02}");
        let cmd = emu.command(bin, &name, &["setup", "-o", "json"]);
        set.spawn(async move { (name, finish(cmd).await) });
    }
    let mut slowest_s: f64 = 0.0;
    let mut failures = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (name, result) = joined?;
        match result {
            Ok(done) => {
                slowest_s = slowest_s.max(done.wall_s);
                let verified = done
                    .json()
                    .ok()
                    .and_then(|r| r["verify"]["passed"].as_bool())
                    .unwrap_or(false);
                if done.code != 0 || !verified {
                    failures.push(format!(
                        "N={n}, {name}: exit {}, verified {verified}\n{}",
                        done.code,
                        tail(&done.stderr, 15)
                    ));
                }
            }
            Err(e) => failures.push(format!("N={n}, {name}: {e:#}")),
        }
    }
    let total_s = started.elapsed().as_secs_f64();
    let log = emu.log();
    emu.stop().await;
    Ok(Round {
        total_s,
        slowest_s,
        requests: log.len(),
        throttled: reqlog::count(&log).throttled,
        failures,
    })
}

pub async fn section(bin: &Path, sizes: &[usize], runs: usize) -> anyhow::Result<Section> {
    let mut t = Table::new(&[
        "N environments",
        "runs",
        "total wall (all N verified)",
        "slowest single setup",
        "requests logged",
        "ARM 429s received",
        "failures",
    ]);
    let mut failures = Vec::new();
    for &n in sizes {
        let mut rounds = Vec::new();
        for i in 1..=runs {
            let r = round(bin, n).await?;
            eprintln!(
                "bench: scale N={n}, run {i}/{runs}: {:.1} s, {} × 429, {} failures",
                r.total_s,
                r.throttled,
                r.failures.len()
            );
            rounds.push(r);
        }
        let f = |g: fn(&Round) -> f64| median(&rounds.iter().map(g).collect::<Vec<_>>());
        let failed: usize = rounds.iter().map(|r| r.failures.len()).sum();
        t.row(vec![
            n.to_string(),
            runs.to_string(),
            format!("{} s", num(f(|r| r.total_s), 1)),
            format!("{} s", num(f(|r| r.slowest_s), 1)),
            median_count(&rounds.iter().map(|r| r.requests).collect::<Vec<_>>()),
            format!(
                "{} (max {})",
                median_count(&rounds.iter().map(|r| r.throttled).collect::<Vec<_>>()),
                rounds.iter().map(|r| r.throttled).max().unwrap_or(0)
            ),
            format!("{failed} of {}", n * runs),
        ]);
        failures.extend(rounds.into_iter().flat_map(|r| r.failures));
    }
    let mut body = format!(
        "N `apimfn setup -o json` processes started together against one emulator (one \
         subscription, one service principal — so they share ARM's per-principal token \
         buckets: reads 250 + 25/s, writes 200 + 10/s), time scale {SCALE} (APIM activation \
         {:.0} s), throttling at its defaults. Names `e01`…; medians over the runs; a failure is an exit \
         code other than 0 or a report without `verify.passed`.\n\n",
        45.0 * 60.0 * SCALE
    );
    body.push_str(&t.render());
    body.push_str(
        "\nThe throttling buckets refill in real time while every Azure duration and apimfn's \
         poll intervals are scaled by the time scale, so this is a much harsher load than the \
         same N in Azure: at scale 0.01 each environment polls its APIM about 100× as often per \
         real second as it would in Azure. The 429s show apimfn riding out throttling \
         (`Retry-After` honoured, see `src/arm/retry.rs`), not a load Azure would see from N \
         pipelines.\n",
    );
    Ok(Section {
        title: "3. Scale: N environments at once under ARM throttling".into(),
        body,
        failures,
    })
}
