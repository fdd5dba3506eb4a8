//! The function host at `https://{app}.azurewebsites.net`: Easy Auth in front (`crate::easyauth`),
//! then the deployed Python functions, run by a real Python worker process per site.
//!
//! What it serves, from the deployment the SCM emulation records in `world.table("web.deployments")`
//! (key: lowercased site id; `{"status": 4, "appDir", "python", "functions": [{"name", "route",
//! "methods", "authLevel"}], "deployedMs"}`):
//! - `/{routePrefix}/{route}`: `routePrefix` from the app's `host.json`
//!   (`extensions.http.routePrefix`, default `api`; Microsoft docs "host.json reference for Azure
//!   Functions 2.x and later", `extensions.http`). Route templates with `{name}`, `{name?}`,
//!   `{*rest}` and constraints `{id:int}` (the constraint is not checked) fill `route_params`.
//! - Methods: a function with `methods` answers only those; another method gets **404 with an empty
//!   body**, like a route that does not exist (azure-functions-host issue #10098 shows the real host
//!   answering `404 Not Found`, `Content-Length: 0`, for a known route with another method).
//! - Auth levels (Microsoft docs "Azure Functions HTTP trigger", *Authorization level* and
//!   *Obtaining keys*): `anonymous` needs no key; `function` needs a key from the
//!   `x-functions-key` header or the `code` query parameter: the master key, any host function key
//!   (`functionKeys`) or one of the function's own keys; `admin` needs the master key. A missing or
//!   wrong key → **401** with an empty body. Keys are the site's host keys that ARM's
//!   `host/default/listkeys` returns (`arm/web/config.rs`).
//! - `GET /admin/host/status` with the master key → 200 `{"id","state":"Running","version",
//!   "versionDetails","platformVersion","instanceId","computerName","processUptime",
//!   "functionAppContentEditingState":"NotAllowed"}` — the Flex Consumption sample in
//!   azure-functions-host issue #9482; 401 without the master key.
//! - Python: the worker (`worker.py`) imports `function_app.py` with the deployment's venv python
//!   and the real `azure-functions` package, finds the registered functions (`FunctionRegister.
//!   get_functions()`, as the Python worker's indexing does), and calls the user function with an
//!   `azure.functions.HttpRequest`. It is kept warm (one per site) and replaced when `deployedMs`
//!   changes. An unhandled exception → **500 with an empty body** (the host's answer for a failed
//!   HTTP invocation); an app that fails to import → 500 for every function route.
//! - An invocation running longer than 230 s (the front end's HTTP timeout) → 504, and the worker
//!   is replaced.
//! - Not modelled: other triggers and bindings, `context` parameters, the default home page at `/`
//!   (404 here), proxies, CORS, access restrictions, scale-out, cold-start latency.
//! - No successful deployment yet: every function route answers 404 (an empty Flex app runs a host
//!   with no functions); `/admin/host/status` still answers `Running`.
//! - An unknown `*.azurewebsites.net` name → 404 (the real front end's "Web App - Unavailable"
//!   page; its HTML is not reproduced).

use crate::easyauth;
use crate::http::{Req, json_response, text};
use crate::server::Emulator;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The table the SCM emulation writes a successful deployment to (the shared contract).
pub const DEPLOYMENTS_TABLE: &str = crate::scm::CONTRACT_TABLE;

const WORKER_SCRIPT: &str = include_str!("worker.py");
/// The host version the emulator reports (a Functions 4.x host).
const HOST_VERSION: &str = "4.1040.300";
/// How long an HTTP invocation may take: the Azure load balancer's 230-second idle timeout (docs
/// "Azure Functions HTTP trigger", *Limits* / functions-scale "Timeout").
const HTTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(230);

/// The warm Python workers, one per site.
#[derive(Default)]
pub struct Host {
    /// Site id → its worker (`None` until started, or after it died).
    workers: tokio::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Worker>>>>>,
    started: std::sync::OnceLock<std::time::Instant>,
}

struct Worker {
    deployed_ms: u64,
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: BufReader<tokio::process::ChildStdout>,
    /// The import error, when `function_app.py` could not be loaded.
    broken: Option<String>,
}

impl Worker {
    async fn spawn(python: &str, app_dir: &str, deployed_ms: u64) -> Result<Worker, String> {
        let mut child = tokio::process::Command::new(python)
            .arg("-u")
            .arg("-c")
            .arg(WORKER_SCRIPT)
            .arg(app_dir)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("could not start {python}: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the worker has no pipes".into());
        };
        let mut w = Worker {
            deployed_ms,
            child,
            stdin,
            stdout: BufReader::new(stdout),
            broken: None,
        };
        let ready = w.read().await?;
        if ready["ready"] != true {
            w.broken = Some(ready["error"].as_str().unwrap_or("import failed").into());
        }
        Ok(w)
    }

    async fn read(&mut self) -> Result<Value, String> {
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the Python worker exited".into());
        }
        serde_json::from_str(&line).map_err(|e| format!("bad worker output: {e}"))
    }

    async fn invoke(&mut self, request: &Value) -> Result<Value, String> {
        let mut line = request.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        self.stdin.flush().await.map_err(|e| e.to_string())?;
        self.read().await
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// A site the host name belongs to: `(site id, site envelope)`.
fn find_site(em: &Emulator, host: &str) -> Option<(String, Value)> {
    let world = em.world();
    world
        .resources
        .iter()
        .find(|(_, r)| {
            r["type"] == "Microsoft.Web/sites"
                && (r["properties"]["defaultHostName"]
                    .as_str()
                    .is_some_and(|h| h.eq_ignore_ascii_case(host))
                    || r["properties"]["hostNames"].as_array().is_some_and(|hs| {
                        hs.iter()
                            .any(|h| h.as_str().is_some_and(|h| h.eq_ignore_ascii_case(host)))
                    }))
        })
        .map(|(k, r)| (k.clone(), r.clone()))
}

fn status_only(status: StatusCode) -> Response {
    crate::http::empty(status)
}

/// Serve one request to `{app}.azurewebsites.net`.
pub async fn handle(em: &Arc<Emulator>, req: Req) -> Response {
    let Some((site_id, site)) = find_site(em, &req.host) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("Web App - Unavailable: no site serves {}", req.host),
        );
    };
    let req = match easyauth::authenticate(em, &site_id, &site, req) {
        Ok(req) => req,
        Err(resp) => return resp,
    };
    let keys = crate::arm::store::get(&em.world(), &format!("{site_id}/host/default"))
        .unwrap_or(Value::Null);
    let presented = req
        .header("x-functions-key")
        .map(str::to_string)
        .or_else(|| req.query("code").map(str::to_string));
    let is_master = presented
        .as_deref()
        .is_some_and(|k| keys["masterKey"].as_str() == Some(k));

    if req.path.eq_ignore_ascii_case("/admin/host/status") {
        if !is_master {
            return status_only(StatusCode::UNAUTHORIZED);
        }
        let started = *em.funchost.started.get_or_init(std::time::Instant::now);
        let id: String = site["name"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(32)
            .collect();
        return json_response(
            StatusCode::OK,
            &json!({
                "id": id,
                "state": "Running",
                "version": HOST_VERSION,
                "versionDetails": format!("{HOST_VERSION}+emulator"),
                "platformVersion": "",
                "instanceId": "emulator",
                "computerName": "",
                "processUptime": started.elapsed().as_millis() as u64,
                "functionAppContentEditingState": "NotAllowed",
            }),
        );
    }

    let deployment = em
        .world()
        .data
        .get(DEPLOYMENTS_TABLE)
        .and_then(|t| t.get(&site_id))
        .cloned()
        .filter(|d| d["status"] == 4);
    let Some(deployment) = deployment else {
        return status_only(StatusCode::NOT_FOUND);
    };
    let app_dir = deployment["appDir"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let prefix = route_prefix(&app_dir);
    let Some(rest) = strip_prefix(&req.path, &prefix) else {
        return status_only(StatusCode::NOT_FOUND);
    };
    let functions = deployment["functions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let Some((function, route_params)) = functions.iter().find_map(|f| {
        let route = f["route"]
            .as_str()
            .or_else(|| f["name"].as_str())
            .unwrap_or_default();
        match_route(route, rest).map(|p| (f.clone(), p))
    }) else {
        return status_only(StatusCode::NOT_FOUND);
    };
    if let Some(methods) = function["methods"].as_array().filter(|m| !m.is_empty())
        && !methods.iter().any(|m| {
            m.as_str()
                .is_some_and(|m| m.eq_ignore_ascii_case(req.method.as_str()))
        })
    {
        return status_only(StatusCode::NOT_FOUND);
    }
    let name = function["name"].as_str().unwrap_or_default().to_string();
    let level = function["authLevel"]
        .as_str()
        .unwrap_or("FUNCTION")
        .to_ascii_uppercase();
    let authorized = match level.as_str() {
        "ANONYMOUS" => true,
        "ADMIN" => is_master,
        _ => presented.as_deref().is_some_and(|k| {
            is_master || key_in(&keys["functionKeys"], k) || key_in(&keys["functions"][&name], k)
        }),
    };
    if !authorized {
        return status_only(StatusCode::UNAUTHORIZED);
    }
    invoke(em, &site_id, &deployment, &name, &req, route_params).await
}

fn key_in(map: &Value, key: &str) -> bool {
    map.as_object()
        .is_some_and(|m| m.values().any(|v| v.as_str() == Some(key)))
}

/// `extensions.http.routePrefix` from the app's `host.json` (default `api`; empty allowed).
fn route_prefix(app_dir: &str) -> String {
    std::fs::read(std::path::Path::new(app_dir).join("host.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|h| {
            h["extensions"]["http"]["routePrefix"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "api".to_string())
}

/// The path after `/{prefix}/` (the whole path without its leading `/` when the prefix is empty).
fn strip_prefix<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let path = path.strip_prefix('/')?;
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        return Some(path);
    }
    let head = path.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = &path[prefix.len()..];
    if rest.is_empty() {
        return Some("");
    }
    rest.strip_prefix('/')
}

/// Match a route template (`items/{id:int}/{*rest}`, case-insensitive literals) against a path.
fn match_route(template: &str, path: &str) -> Option<HashMap<String, String>> {
    let t: Vec<&str> = template
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let p: Vec<&str> = path
        .trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let mut params = HashMap::new();
    for (i, seg) in t.iter().enumerate() {
        if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let (name, catch_all) = match inner.strip_prefix('*') {
                Some(n) => (n, true),
                None => (inner, false),
            };
            let name = name.split(':').next().unwrap_or(name);
            let optional = name.ends_with('?');
            let name = name.trim_end_matches('?').to_string();
            if catch_all {
                params.insert(name, p.get(i..).unwrap_or_default().join("/"));
                return Some(params);
            }
            match p.get(i) {
                Some(v) => {
                    params.insert(name, decode(v));
                }
                None if optional => {}
                None => return None,
            }
        } else if !p.get(i).is_some_and(|v| v.eq_ignore_ascii_case(seg)) {
            return None;
        }
    }
    (p.len() <= t.len()).then_some(params)
}

/// Percent-decode a path segment (`+` stays a plus sign in paths).
fn decode(s: &str) -> String {
    let escaped = s.replace('+', "%2B");
    url::form_urlencoded::parse(format!("x={escaped}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

async fn invoke(
    em: &Arc<Emulator>,
    site_id: &str,
    deployment: &Value,
    function: &str,
    req: &Req,
    route_params: HashMap<String, String>,
) -> Response {
    let deployed_ms = deployment["deployedMs"].as_u64().unwrap_or(0);
    let python = deployment["python"]
        .as_str()
        .unwrap_or("python3")
        .to_string();
    let app_dir = deployment["appDir"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let slot = em
        .funchost
        .workers
        .lock()
        .await
        .entry(site_id.to_string())
        .or_default()
        .clone();
    // One invocation at a time per site: the worker speaks one JSON line each way.
    let mut guard = slot.lock().await;
    let stale = match guard.as_mut() {
        Some(w) => w.deployed_ms != deployed_ms || !w.alive(),
        None => true,
    };
    if stale {
        // Dropping the old worker kills it (`kill_on_drop`).
        *guard = None;
        match Worker::spawn(&python, &app_dir, deployed_ms).await {
            Ok(w) => *guard = Some(w),
            Err(e) => {
                tracing::warn!("function host for {site_id}: {e}");
                return status_only(StatusCode::INTERNAL_SERVER_ERROR);
            }
        }
    }
    let Some(worker) = guard.as_mut() else {
        return status_only(StatusCode::INTERNAL_SERVER_ERROR);
    };
    if let Some(e) = &worker.broken {
        tracing::warn!("function host for {site_id}: function_app.py failed to load: {e}");
        return status_only(StatusCode::INTERNAL_SERVER_ERROR);
    }
    let mut headers = serde_json::Map::new();
    for (k, v) in &req.headers {
        if let Ok(v) = v.to_str() {
            headers.insert(k.as_str().to_string(), json!(v));
        }
    }
    let mut params = serde_json::Map::new();
    for (k, v) in &req.query {
        params.entry(k.clone()).or_insert_with(|| json!(v));
    }
    let query = if req.raw_query.is_empty() {
        String::new()
    } else {
        format!("?{}", req.raw_query)
    };
    let request = json!({
        "function": function,
        "method": req.method.as_str(),
        "url": format!("https://{}{}{}", req.host, req.path, query),
        "headers": headers,
        "params": params,
        "route_params": route_params,
        "body": B64.encode(&req.body),
    });
    let answer = match tokio::time::timeout(HTTP_TIMEOUT, worker.invoke(&request)).await {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => {
            tracing::warn!("function host for {site_id}: {e}");
            *guard = None;
            return status_only(StatusCode::INTERNAL_SERVER_ERROR);
        }
        Err(_) => {
            // The front end gives up on an HTTP request after 230 s; the worker is replaced.
            *guard = None;
            return status_only(StatusCode::GATEWAY_TIMEOUT);
        }
    };
    drop(guard);
    if let Some(e) = answer["error"].as_str() {
        tracing::info!("function {function} of {site_id} failed: {e}");
        return status_only(StatusCode::INTERNAL_SERVER_ERROR);
    }
    let status = answer["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = answer["body"]
        .as_str()
        .and_then(|b| B64.decode(b).ok())
        .unwrap_or_default();
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let mut out = HeaderMap::new();
    if let Some(h) = answer["headers"].as_object() {
        for (k, v) in h {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::from_bytes(k.as_bytes()),
                v.as_str().map(HeaderValue::from_str),
            ) {
                out.append(name, value);
            }
        }
    }
    *resp.headers_mut() = out;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_templates_match_like_the_host() {
        assert!(match_route("HttpExample", "httpexample").is_some());
        assert!(match_route("HttpExample", "HttpExample/more").is_none());
        assert!(match_route("HttpExample", "other").is_none());
        let p = match_route("items/{id:int}/{name?}", "items/42").expect("match");
        assert_eq!(p["id"], "42");
        assert!(!p.contains_key("name"));
        let p = match_route("items/{id}", "items/a+b%20c").expect("match");
        assert_eq!(p["id"], "a+b c");
        let p = match_route("files/{*rest}", "files/a/b%20c").expect("match");
        assert_eq!(p["rest"], "a/b%20c");
        assert!(match_route("items/{id}", "items").is_none());
        assert_eq!(strip_prefix("/api/HttpExample", "api"), Some("HttpExample"));
        assert_eq!(strip_prefix("/API/x", "api"), Some("x"));
        assert_eq!(strip_prefix("/apix", "api"), None);
        assert_eq!(strip_prefix("/x", ""), Some("x"));
    }
}
