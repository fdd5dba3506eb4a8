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

/// How the emulator throttles a round.
#[derive(Clone, Copy, PartialEq)]
enum Throttling {
    /// ARM's limits as documented, refilling in real time (the emulator's default).
    Default,
    /// The refill rates divided by the time scale: Azure's budget over the modelled time.
    RefillScaled,
}

impl Throttling {
    fn label(self) -> &'static str {
        match self {
            Throttling::Default => "default (real-time refill)",
            Throttling::RefillScaled => "refill ÷ time scale",
        }
    }
}

async fn round(bin: &Path, n: usize, throttling: Throttling) -> anyhow::Result<Round> {
    let emu = Emu::start(SCALE).await?;
    if throttling == Throttling::RefillScaled {
        emu.scale_throttle_refill(SCALE)?;
    }
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
                        "N={n} ({}), {name}: exit {}, verified {verified}\n{}",
                        throttling.label(),
                        done.code,
                        tail(&done.stderr, 15)
                    ));
                }
            }
            Err(e) => failures.push(format!("N={n} ({}), {name}: {e:#}", throttling.label())),
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
        "throttling",
        "runs",
        "total wall (until all N exit)",
        "slowest single setup",
        "requests logged",
        "ARM 429s received",
        "failures",
    ]);
    let mut failures = Vec::new();
    let largest = sizes.iter().copied().max().unwrap_or(1);
    let mut plan: Vec<(usize, Throttling)> =
        sizes.iter().map(|&n| (n, Throttling::Default)).collect();
    plan.push((largest, Throttling::RefillScaled));
    for (n, throttling) in plan {
        let mut rounds = Vec::new();
        for i in 1..=runs {
            let r = round(bin, n, throttling).await?;
            eprintln!(
                "bench: scale N={n} ({}), run {i}/{runs}: {:.1} s, {} × 429, {} failures",
                throttling.label(),
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
            throttling.label().to_string(),
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
        if throttling == Throttling::Default {
            failures.extend(rounds.into_iter().flat_map(|r| r.failures));
        }
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
        "\nThe buckets refill in real time while every Azure duration and apimfn's poll \
         intervals shrink with the time scale, so at scale 0.01 each environment polls about \
         100× as often per real second as it would in Azure: 20 environments polling APIM \
         every 0.3 s ask for ~65 reads a second against a refill of 25. A 429 means the \
         request did not run, so apimfn waits it out (`Retry-After` honoured) for up to 5 \
         minutes of real time per request (`RetryPolicy::throttle_budget`, `src/arm/retry.rs`) \
         without spending the request's 6 attempts: the 20 environments get through, later. \
         (Before that budget existed, 429s counted as attempts and 45 of 60 setups failed here.) \
         The last row divides the refill rates by the time scale (bucket sizes unchanged), \
         which is the budget Azure gives over the same modelled time: no 429 at all, so the \
         throttling in the default rows comes from the compressed clock, not from the load. \
         Only the default rows decide the bench's pass/fail.\n",
    );
    Ok(Section {
        title: "3. Scale: N environments at once under ARM throttling".into(),
        body,
        failures,
    })
}
