//! The HTTPS listener: TLS, Host-header routing to the emulated services, the request log.

use crate::clock::Clock;
use crate::http::{Req, text};
use crate::tls;
use crate::world::{Store, World};
use anyhow::Context;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Loopback port; 0 picks a free one.
    pub port: u16,
    /// Where the CA and the state live; `None` uses a temporary directory (CA only, state in memory).
    pub state_dir: Option<PathBuf>,
    /// Multiplier for every modelled duration.
    pub time_scale: f64,
    /// Reject unknown or mistyped properties in PUT/PATCH bodies (400), instead of ignoring them
    /// as real ARM does.
    pub strict: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            state_dir: None,
            time_scale: 0.01,
            strict: true,
        }
    }
}

/// What a client needs to use the emulator (`--ready-file`, CONTRACT §6).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ready {
    pub url: String,
    /// Path of the CA certificate (PEM) to trust.
    pub ca_cert: String,
    pub tenant_id: String,
    pub subscription_id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// One served request, as the admin API reports it.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub method: String,
    pub host: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    /// RFC 3339.
    pub time: String,
    /// How long the answer took, including injected latency.
    #[serde(rename = "durationMs")]
    pub duration_ms: u64,
}

/// The shared state of a running emulator.
pub struct Emulator {
    pub clock: Clock,
    pub strict: bool,
    /// `https://127.0.0.1:{port}`
    pub base_url: String,
    /// The tenant's token-signing key.
    pub signer: crate::jwt::Signer,
    world: Mutex<World>,
    store: Store,
    log: Mutex<Vec<LogEntry>>,
    /// ARM's token buckets (in memory only).
    pub throttle: crate::throttle::Throttle,
    /// Fault-injection rules (in memory only).
    pub faults: crate::faults::Faults,
    /// The function host's warm Python workers (in memory only).
    pub funchost: crate::funchost::Host,
    /// The state directory in use (a temporary one unless configured) and whether it was
    /// configured (persistent): deployments unpack and build under it.
    pub work_dir: PathBuf,
    pub persistent: bool,
}

impl Emulator {
    /// Lock the world. Never hold the guard across an `.await`.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Persist the world (after a change).
    pub fn save(&self) {
        let world = self.world();
        if let Err(e) = self.store.save(&world) {
            tracing::warn!("could not save emulator state: {e:#}");
        }
    }

    pub fn log_snapshot(&self) -> Vec<LogEntry> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn clear_log(&self) {
        if let Ok(mut l) = self.log.lock() {
            l.clear();
        }
    }

    fn record(&self, entry: LogEntry) {
        if let Ok(mut l) = self.log.lock() {
            l.push(entry);
        }
    }
}

/// A running emulator; dropping it (or `shutdown`) stops the listener.
pub struct Running {
    pub addr: SocketAddr,
    pub ready: Ready,
    pub ca_pem: String,
    pub emulator: Arc<Emulator>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Keeps a temporary state directory alive as long as the emulator runs.
    _tempdir: Option<tempfile::TempDir>,
}

impl Running {
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The state directory in use (a temporary one unless configured).
    pub fn state_dir(&self) -> Option<&std::path::Path> {
        std::path::Path::new(&self.ready.ca_cert).parent()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Start the emulator on loopback.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let (dir, tempdir) = match &config.state_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            // Absolute, because the build and the function host run Python in other working
            // directories; a relative `--state-dir` would point elsewhere there.
            let d = std::path::absolute(d).with_context(|| format!("resolving {}", d.display()))?;
            (d, None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("apimfn-emulator-")
                .tempdir()
                .context("creating a temporary state directory")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let tls = tls::load_or_create(&dir)?;
    let store = Store::new(config.state_dir.as_deref());
    let mut world = store.load()?;
    let (signer, saved_key) = crate::jwt::Signer::load_or_create(world.signing_key.as_deref())?;
    world.signing_key = Some(saved_key);
    crate::directory::seed(&mut world);
    crate::arm::seed(&mut world);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{}", config.port))?;
    let addr = listener.local_addr()?;
    let base_url = format!("https://127.0.0.1:{}", addr.port());

    let ready = Ready {
        url: base_url.clone(),
        ca_cert: dir.join("ca.pem").display().to_string(),
        tenant_id: world.seed.tenant_id.clone(),
        subscription_id: world.seed.subscription_id.clone(),
        client_id: world.seed.client_id.clone(),
        client_secret: world.seed.client_secret.clone(),
    };
    let emulator = Arc::new(Emulator {
        clock: Clock::new(config.time_scale),
        strict: config.strict,
        base_url,
        signer,
        world: Mutex::new(world),
        store,
        log: Mutex::new(Vec::new()),
        throttle: Default::default(),
        faults: Default::default(),
        funchost: Default::default(),
        work_dir: dir.clone(),
        persistent: config.state_dir.is_some(),
    });
    emulator.save();

    let acceptor = tokio_rustls::TlsAcceptor::from(tls.server_config.clone());
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let em = emulator.clone();
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = &mut rx => break,
            };
            let Ok((tcp, _)) = accepted else { continue };
            let acceptor = acceptor.clone();
            let em = em.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let io = hyper_util::rt::TokioIo::new(stream);
                let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let em = em.clone();
                    // A `Dropped` error makes hyper close the connection without answering.
                    async move { serve(em, req).await }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(io, svc)
                .await;
            });
        }
    });

    Ok(Running {
        addr,
        ready,
        ca_pem: tls.ca_pem,
        emulator,
        shutdown: Some(tx),
        task: Some(task),
        _tempdir: tempdir,
    })
}

async fn serve(
    em: Arc<Emulator>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response, crate::faults::Dropped> {
    let started = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(text(
                StatusCode::BAD_REQUEST,
                "could not read the request body",
            ));
        }
    };
    // HTTP/2 carries the host in the URI authority; HTTP/1.1 in the Host header.
    let host = parts
        .uri
        .host()
        .map(str::to_string)
        .or_else(|| {
            parts
                .headers
                .get("host")
                .and_then(|h| h.to_str().ok())
                .map(|h| h.split(':').next().unwrap_or(h).to_string())
        })
        .unwrap_or_default()
        .to_ascii_lowercase();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let query = url::form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let req = Req {
        method: parts.method.clone(),
        host: host.clone(),
        path: parts.uri.path().to_string(),
        raw_query: raw_query.clone(),
        query,
        headers: parts.headers,
        body,
    };
    exchange(&em, req, started).await
}

/// Route a request exactly as one received from the network is routed (fault rules, the request
/// log, Host-header routing): for in-process callers such as the APIM gateway forwarding to a
/// backend. A fault rule that drops the connection answers 502 here; use [`exchange`] to see it.
pub async fn dispatch(em: &Arc<Emulator>, req: Req) -> Response {
    match exchange(em, req, std::time::Instant::now()).await {
        Ok(r) => r,
        Err(_) => text(StatusCode::BAD_GATEWAY, "the connection was dropped"),
    }
}

/// [`dispatch`], reporting a dropped connection as `Err` (the listener closes the socket).
pub async fn exchange(
    em: &Arc<Emulator>,
    req: Req,
    started: std::time::Instant,
) -> Result<Response, crate::faults::Dropped> {
    let admin = is_admin_host(&req.host) && req.path.starts_with("/.emulator/");
    if admin {
        return Ok(Box::pin(route(em, req)).await);
    }
    let (method, host, path, raw_query) = (
        req.method.to_string(),
        req.host.clone(),
        req.path.clone(),
        req.raw_query.clone(),
    );
    let log = |status: u16| LogEntry {
        method: method.clone(),
        host: host.clone(),
        path: path.clone(),
        query: raw_query.clone(),
        status,
        time: Clock::rfc3339(em.clock.now_ms()),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let fault = em.faults.decide(&req);
    if let Some(ms) = fault.as_ref().and_then(|f| f.latency_ms) {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let resp = match &fault {
        Some(f) if f.drop => {
            em.record(log(0));
            return Err(crate::faults::Dropped);
        }
        Some(
            f @ crate::faults::Action {
                status: Some(status),
                ..
            },
        ) => crate::faults::respond(f, &req, *status),
        // Boxed: the gateway routes back through here (an async call cycle).
        _ => Box::pin(route(em, req)).await,
    };
    em.record(log(resp.status().as_u16()));
    Ok(resp)
}

fn is_admin_host(host: &str) -> bool {
    host == "127.0.0.1" || host == "localhost"
}

async fn route(em: &Arc<Emulator>, req: Req) -> Response {
    let host = req.host.as_str();
    if is_admin_host(host) && req.path.starts_with("/.emulator/") {
        return crate::admin::handle(em, req).await;
    }
    if host == "management.azure.com" {
        // ARM throttles before anything else (even before the token checks of the gate).
        let remaining = match crate::throttle::admit(em, &req) {
            Ok(r) => r,
            Err(resp) => return resp,
        };
        let resp = crate::arm::handle(em, req).await;
        return crate::throttle::decorate(resp, remaining.as_ref());
    }
    if host == "login.microsoftonline.com" {
        return crate::entra::handle(em, req).await;
    }
    if host == "graph.microsoft.com" {
        return crate::graph::handle(em, req).await;
    }
    if host.ends_with(".scm.azurewebsites.net") {
        return crate::scm::handle(em, req).await;
    }
    if host.ends_with(".azurewebsites.net") {
        return crate::funchost::handle(em, req).await;
    }
    if let Some(service) = crate::gateway::service_of_host(host) {
        let service = service.to_string();
        return crate::gateway::handle(em, &service, req).await;
    }
    text(
        StatusCode::NOT_FOUND,
        format!("the emulator does not serve {host}{} (yet)", req.path),
    )
}
