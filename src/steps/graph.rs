//! `setup` as a dependency graph of steps, run with bounded concurrency: APIM's 30–90 minute
//! activation is the long pole, and everything that does not need an active APIM runs while it
//! activates. The table below is the one place the order is written down (docs/steps/setup.md
//! shows it as a table).

use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Node {
    Group,
    Apim,
    ApimActive,
    Function,
    Deploy,
    Registration,
    EasyAuth,
    Import,
    Policy,
    Verify,
}

/// Every node, with what it needs finished first and what it does.
pub const GRAPH: &[(Node, &[Node], &str)] = &[
    (Node::Group, &[], "resource group"),
    (
        Node::Apim,
        &[Node::Group],
        "APIM service accepted (its identity exists from here)",
    ),
    (
        Node::ApimActive,
        &[Node::Apim],
        "APIM activation (30–90 min in Azure)",
    ),
    (
        Node::Function,
        &[Node::Group],
        "storage, container, plan, function app, role assignment",
    ),
    (
        Node::Deploy,
        &[Node::Function],
        "zip deploy with remote build, functions listed",
    ),
    (
        Node::Registration,
        &[],
        "Entra app registration (the Easy Auth audience)",
    ),
    (
        Node::EasyAuth,
        &[Node::Function, Node::Apim, Node::Registration],
        "authsettingsV2: only APIM's identity gets in",
    ),
    (
        Node::Import,
        &[Node::ApimActive, Node::Deploy],
        "host key, named value, backend, API, operations, backend policy",
    ),
    (
        Node::Policy,
        &[Node::Import, Node::Registration],
        "authentication-managed-identity policy",
    ),
    (
        Node::Verify,
        &[Node::Policy, Node::EasyAuth],
        "direct call 401, through APIM 200",
    ),
];

impl Node {
    pub fn name(self) -> &'static str {
        match self {
            Node::Group => "group",
            Node::Apim => "apim",
            Node::ApimActive => "apim-active",
            Node::Function => "function",
            Node::Deploy => "deploy",
            Node::Registration => "registration",
            Node::EasyAuth => "easy-auth",
            Node::Import => "import",
            Node::Policy => "policy",
            Node::Verify => "verify",
        }
    }

    /// Whether the node only waits for Azure (it writes nothing): it is at a safe point at every
    /// moment, so after another node fails it is stopped rather than waited for — a failure
    /// during APIM's activation must not hold the run for up to 90 minutes. Azure keeps going; a
    /// re-run joins the wait.
    pub fn waits_only(self) -> bool {
        matches!(self, Node::ApimActive)
    }

    pub fn deps(self) -> &'static [Node] {
        GRAPH
            .iter()
            .find(|(n, _, _)| *n == self)
            .map(|(_, d, _)| *d)
            .unwrap_or(&[])
    }
}

/// How one node ended.
#[derive(Debug)]
pub enum Outcome {
    Done(Duration),
    Failed(Duration, anyhow::Error),
    /// A wait stopped because another node failed (Azure's operation goes on).
    Stopped(Duration),
    /// Not started: a node failed first (or one it needs did).
    Skipped,
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Done(_) => "done",
            Outcome::Failed(..) => "failed",
            Outcome::Stopped(_) => "stopped",
            Outcome::Skipped => "skipped",
        }
    }
}

pub type NodeFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'static>>;

/// Run `nodes` (a subset of the graph; dependencies outside it count as done) with at most
/// `limit` at once. `start(node)` makes the node's work. After a failure no new node starts; the
/// running ones finish (each step stops only at a safe point — between Azure calls — when its
/// future is dropped), except those that only wait ([`Node::waits_only`]), which are stopped.
/// Outcomes in graph order.
pub async fn run<F>(nodes: &[Node], limit: usize, mut start: F) -> Vec<(Node, Outcome)>
where
    F: FnMut(Node) -> NodeFuture,
{
    let limit = limit.max(1);
    let mut outcomes: BTreeMap<Node, Outcome> = BTreeMap::new();
    let mut running: JoinSet<(Node, Duration, anyhow::Result<()>)> = JoinSet::new();
    let mut started: Vec<Node> = Vec::new();
    let mut handles: BTreeMap<Node, (tokio::task::AbortHandle, Instant)> = BTreeMap::new();
    let mut failed = false;
    loop {
        if !failed {
            for &node in nodes {
                if running.len() >= limit {
                    break;
                }
                if started.contains(&node) {
                    continue;
                }
                let ready = node.deps().iter().all(|d| {
                    !nodes.contains(d) || matches!(outcomes.get(d), Some(Outcome::Done(_)))
                });
                if ready {
                    started.push(node);
                    let work = start(node);
                    let handle = running.spawn(async move {
                        let t = Instant::now();
                        let r = work.await;
                        (node, t.elapsed(), r)
                    });
                    handles.insert(node, (handle, Instant::now()));
                }
            }
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        match joined {
            Ok((node, took, Ok(()))) => {
                outcomes.insert(node, Outcome::Done(took));
            }
            Ok((node, took, Err(e))) => {
                failed = true;
                outcomes.insert(node, Outcome::Failed(took, e));
                for (&n, (handle, since)) in &handles {
                    if n.waits_only() && !outcomes.contains_key(&n) {
                        handle.abort();
                        outcomes.insert(n, Outcome::Stopped(since.elapsed()));
                    }
                }
            }
            Err(join_error) if join_error.is_cancelled() => {
                // A wait stopped above; its outcome is already recorded.
            }
            Err(join_error) => {
                // A panic in a step: report it as that step's failure (the node is unknown
                // here, so it is attributed when the outcomes are listed below).
                failed = true;
                tracing::error!("a setup step panicked: {join_error}");
            }
        }
    }
    nodes
        .iter()
        .map(|n| {
            let o = outcomes.remove(n).unwrap_or(if started.contains(n) {
                Outcome::Failed(
                    Duration::ZERO,
                    anyhow::anyhow!("the step {} panicked", n.name()),
                )
            } else {
                Outcome::Skipped
            });
            (*n, o)
        })
        .collect()
}

/// The longest chain of `durations` through the graph (nodes without a duration count 0).
pub fn critical_path(durations: &BTreeMap<Node, Duration>) -> (Duration, Vec<Node>) {
    fn finish(
        n: Node,
        d: &BTreeMap<Node, Duration>,
        memo: &mut BTreeMap<Node, (Duration, Vec<Node>)>,
    ) -> (Duration, Vec<Node>) {
        if let Some(v) = memo.get(&n) {
            return v.clone();
        }
        let mut best = (Duration::ZERO, Vec::new());
        for &dep in n.deps() {
            let f = finish(dep, d, memo);
            if f.0 > best.0 {
                best = f;
            }
        }
        best.0 += d.get(&n).copied().unwrap_or_default();
        best.1.push(n);
        memo.insert(n, best.clone());
        best
    }
    let mut memo = BTreeMap::new();
    GRAPH
        .iter()
        .map(|(n, _, _)| finish(*n, durations, &mut memo))
        .max_by_key(|(d, _)| *d)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn all() -> Vec<Node> {
        GRAPH.iter().map(|(n, _, _)| *n).collect()
    }

    #[test]
    fn every_dependency_is_a_node_listed_before_it() {
        let order = all();
        for (i, (n, deps, _)) in GRAPH.iter().enumerate() {
            for d in *deps {
                let at = order.iter().position(|x| x == d).expect("listed");
                assert!(at < i, "{n:?} needs {d:?}, listed after it");
            }
        }
    }

    fn durations() -> BTreeMap<Node, Duration> {
        let s = Duration::from_secs;
        BTreeMap::from([
            (Node::Group, s(1)),
            (Node::Apim, s(2)),
            (Node::ApimActive, s(45)),
            (Node::Function, s(6)),
            (Node::Deploy, s(10)),
            (Node::Registration, s(1)),
            (Node::EasyAuth, s(1)),
            (Node::Import, s(3)),
            (Node::Policy, s(1)),
            (Node::Verify, s(2)),
        ])
    }

    #[test]
    fn the_critical_path_runs_through_the_activation() {
        let (d, path) = critical_path(&durations());
        assert_eq!(d, Duration::from_secs(1 + 2 + 45 + 3 + 1 + 2));
        assert_eq!(
            path,
            [
                Node::Group,
                Node::Apim,
                Node::ApimActive,
                Node::Import,
                Node::Policy,
                Node::Verify
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn independent_steps_overlap_and_the_run_takes_the_critical_path() {
        let d = durations();
        let log = Arc::new(Mutex::new(Vec::new()));
        let t0 = tokio::time::Instant::now();
        let outcomes = run(&all(), 4, |n| {
            let took = d[&n];
            let log = log.clone();
            Box::pin(async move {
                tokio::time::sleep(took).await;
                log.lock().map(|mut l| l.push(n)).ok();
                Ok(())
            })
        })
        .await;
        assert!(outcomes.iter().all(|(_, o)| matches!(o, Outcome::Done(_))));
        assert_eq!(t0.elapsed(), critical_path(&d).0);
        let log = log.lock().map(|l| l.clone()).unwrap_or_default();
        let at = |n| log.iter().position(|x| *x == n).expect("ran");
        assert!(
            at(Node::Deploy) < at(Node::ApimActive),
            "deploy ran during the activation"
        );
        assert!(
            at(Node::EasyAuth) < at(Node::ApimActive),
            "Easy Auth ran during the activation"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_stops_new_work_lets_running_work_finish_and_stops_waits() {
        let t0 = tokio::time::Instant::now();
        let outcomes = run(&all(), 4, |n| {
            Box::pin(async move {
                match n {
                    Node::Deploy => {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        Err(anyhow::anyhow!("build failed"))
                    }
                    Node::ApimActive => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        Ok(())
                    }
                    Node::Registration => {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        Ok(())
                    }
                    _ => Ok(()),
                }
            })
        })
        .await;
        let get = |n| {
            outcomes
                .iter()
                .find(|(x, _)| *x == n)
                .map(|(_, o)| o.word())
        };
        assert_eq!(get(Node::Deploy), Some("failed"));
        assert_eq!(
            get(Node::Registration),
            Some("done"),
            "running work finished"
        );
        assert_eq!(
            get(Node::ApimActive),
            Some("stopped"),
            "a wait is a safe point: stopped, not waited for"
        );
        assert_eq!(get(Node::Import), Some("skipped"));
        assert_eq!(get(Node::Verify), Some("skipped"));
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the run ended with the failure, not with the activation: {:?}",
            t0.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_limit_nodes_run_at_once() {
        let now = Arc::new(Mutex::new((0usize, 0usize)));
        run(&all(), 2, |_| {
            let now = now.clone();
            Box::pin(async move {
                if let Ok(mut g) = now.lock() {
                    g.0 += 1;
                    g.1 = g.1.max(g.0);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Ok(mut g) = now.lock() {
                    g.0 -= 1;
                }
                Ok(())
            })
        })
        .await;
        assert_eq!(now.lock().map(|g| g.1).unwrap_or(0), 2);
    }
}
