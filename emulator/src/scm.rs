//! The Kudu / SCM endpoint of a Flex Consumption app (`{app}.scm.azurewebsites.net`, the
//! `Repository` host in `hostNameSslStates`): zip deploy with remote build and the deployment
//! status API.
//!
//! Sources:
//! - arm-reference §4.1 (az CLI `enable_zip_deploy_flex`: `POST /api/publish?RemoteBuild=true`,
//!   `Content-Type: application/zip`, bearer token for `https://appservice.azure.com`; 202 =
//!   started, 409 = another deployment running; polling `/api/deployments/latest`; the status
//!   numbers -1…6) and §4.2 (Core Tools: ARM-audience token, `/api/deployments`, `/{id}`,
//!   `/{id}/log`, `DeployStatus.cs`); "the caller needs RBAC write access on the site".
//! - Kudu's `DeployResult` / `LogEntry` JSON (projectkudu/kudu `Kudu.Core/Deployment`): `id`,
//!   `status`, `status_text`, `author_email`, `author`, `deployer`, `message`, `progress`,
//!   `received_time`, `start_time`, `end_time`, `last_success_end_time`, `complete`, `active`,
//!   `is_temp`, `is_readonly`, `url`, `log_url`, `site_name`, `build_summary`,
//!   `provisioningState` (public `az … config-zip` outputs: `status_text` stays `""`, `url` and
//!   `log_url` say `latest` when fetched as latest, `deployer`/`message` `OneDeploy`); log entries
//!   `log_time`, `id`, `message`, `type` (0 message, 1 warning, 2 error), `details_url`.
//! - arm-reference §3.4 (the deployment container is reached with the site identity and needs a
//!   Storage Blob Data role; "RBAC can take minutes to propagate. The first deployment … may fail
//!   with 403"); Azure Storage's 403 `AuthorizationPermissionMismatch` ("This request is not
//!   authorized to perform this operation using this permission."), as `Azure.Storage` prints it.
//! - The `[Kudu-…Step]` log line names follow public Flex Consumption deployment logs (not
//!   re-checked; cosmetic). The package is kept as `released-package.zip` in the container (the
//!   name seen in Flex deployment containers; not re-checked).
//!
//! The pipeline runs on its own task; the build (`crate::build`) and the indexer
//! (`crate::index`) run external processes through `tokio::process`.

use crate::arm::auth::{ARM_AUDIENCES, TokenProblem, validate};
use crate::arm::ids::key;
use crate::arm::{rbac, store};
use crate::build::{self, LogType};
use crate::clock::Clock;
use crate::http::{Req, app_service_error, empty, json_response, with_header};
use crate::server::Emulator;
use crate::world::World;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Kudu deployment records per site: key = lowercased site id, value `{"items": [record…]}`
/// (oldest first; each record carries its `log` array).
pub const DEPLOYMENTS_TABLE: &str = "scm.deployments";
/// The shared contract with the function host: the last successful deployment of each site.
pub const CONTRACT_TABLE: &str = "web.deployments";
/// Blobs written to storage accounts: key = blob URL, value = `{path, contentLength, sha256,
/// lastModifiedMs}` (the bytes live in `blobs/` under the state directory).
pub const BLOBS_TABLE: &str = "storage.blobs";
/// The blob name Flex uses for the deployed package.
pub const PACKAGE_BLOB: &str = "released-package.zip";
/// How long a new role assignment takes to be honoured by the data plane (Azure: "up to several
/// minutes"; modelled as one minute, scaled by the time scale).
pub const ROLE_PROPAGATION: Duration = Duration::from_secs(60);

/// Audiences the SCM endpoint accepts: ARM's (Core Tools) and App Service's (az CLI).
const SCM_AUDIENCES: &[&str] = &[
    "https://appservice.azure.com",
    "https://appservice.azure.com/",
];

pub const PENDING: i64 = 0;
pub const BUILDING: i64 = 1;
pub const DEPLOYING: i64 = 2;
pub const FAILED: i64 = 3;
pub const SUCCESS: i64 = 4;

/// Deployments whose pipeline task is alive in this process; an in-progress record that is not
/// here was interrupted by a restart.
static RUNNING: Mutex<Option<HashSet<String>>> = Mutex::new(None);

fn running_insert(id: &str) {
    if let Ok(mut r) = RUNNING.lock() {
        r.get_or_insert_with(HashSet::new).insert(id.to_string());
    }
}

fn running_remove(id: &str) {
    if let Ok(mut r) = RUNNING.lock()
        && let Some(set) = r.as_mut()
    {
        set.remove(id);
    }
}

fn is_running(id: &str) -> bool {
    RUNNING
        .lock()
        .ok()
        .and_then(|r| r.as_ref().map(|s| s.contains(id)))
        .unwrap_or(false)
}

/// The site a SCM host name belongs to: `(site id, site envelope)`.
pub fn find_site(world: &World, app: &str) -> Option<(String, Value)> {
    world
        .resources
        .values()
        .find(|v| {
            v["type"] == "Microsoft.Web/sites"
                && v["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(app))
        })
        .and_then(|v| Some((v["id"].as_str()?.to_string(), v.clone())))
}

pub async fn handle(em: &Arc<Emulator>, req: Req) -> Response {
    let host = req.host.clone();
    let app = host
        .strip_suffix(".scm.azurewebsites.net")
        .unwrap_or_default()
        .to_string();
    let Some((site_id, site)) = find_site(&em.world(), &app) else {
        return app_service_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("The site '{app}' was not found."),
        );
    };
    let mut audiences: Vec<&str> = ARM_AUDIENCES.to_vec();
    audiences.extend_from_slice(SCM_AUDIENCES);
    let claims = match validate(em, req.bearer(), &audiences) {
        Ok(c) => c,
        Err(p) => return unauthorized(&p),
    };
    let oid = claims["oid"].as_str().unwrap_or_default().to_string();
    let write = req.method != Method::GET && req.method != Method::HEAD;
    if !rbac::allowed(&em.world(), &oid, &site_id, write) {
        return app_service_error(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            &format!(
                "The client with object id '{oid}' does not have authorization to {} the SCM site of '{app}'. A role with write access on the site (e.g. Contributor, Website Contributor) is required.",
                if write { "deploy to" } else { "read" }
            ),
        );
    }
    let path = req.path.trim_end_matches('/').to_ascii_lowercase();
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let raw_parts: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let ctx = Ctx {
        em,
        site_key: key(&site_id),
        site_id,
        site,
        app,
        scm: host,
    };
    match (&req.method, parts.as_slice()) {
        (&Method::POST, ["api", "publish"]) => publish(&ctx, &req),
        (&Method::GET, ["api", "deployments"]) => list(&ctx),
        (&Method::GET, ["api", "deployments", _]) => get(&ctx, raw_parts[2]),
        (&Method::GET, ["api", "deployments", _, "log"]) => log(&ctx, raw_parts[2]),
        _ => app_service_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!(
                "The emulator does not model '{} {}' on the SCM site.",
                req.method, req.path
            ),
        ),
    }
}

fn unauthorized(p: &TokenProblem) -> Response {
    let why = match p {
        TokenProblem::Missing => "No bearer token was sent.".to_string(),
        TokenProblem::Invalid(w) => format!("The token is invalid: {w}."),
        TokenProblem::Expired { .. } => "The token has expired.".to_string(),
        TokenProblem::NotYetValid => "The token is not yet valid.".to_string(),
        TokenProblem::Audience(a) => format!(
            "The token audience '{a}' is not accepted: use https://management.azure.com/ or https://appservice.azure.com."
        ),
        TokenProblem::Tenant(t) => format!("The token is from another tenant '{t}'."),
    };
    with_header(
        app_service_error(StatusCode::UNAUTHORIZED, "Unauthorized", &why),
        "www-authenticate",
        "Bearer",
    )
}

struct Ctx<'a> {
    em: &'a Arc<Emulator>,
    site_id: String,
    site_key: String,
    site: Value,
    app: String,
    scm: String,
}

fn records(world: &World, site_key: &str) -> Vec<Value> {
    world
        .data
        .get(DEPLOYMENTS_TABLE)
        .and_then(|t| t.get(site_key))
        .and_then(|v| v["items"].as_array())
        .cloned()
        .unwrap_or_default()
}

/// Apply `f` to one deployment record.
fn update(em: &Emulator, site_key: &str, id: &str, f: impl FnOnce(&mut Value)) {
    {
        let mut world = em.world();
        let entry = world
            .table(DEPLOYMENTS_TABLE)
            .entry(site_key.to_string())
            .or_insert_with(|| json!({"items": []}));
        if let Some(rec) = entry["items"]
            .as_array_mut()
            .and_then(|a| a.iter_mut().find(|r| r["id"] == id))
        {
            f(rec);
        }
    }
    em.save();
}

fn append_log(em: &Emulator, site_key: &str, id: &str, message: &str, kind: LogType) {
    let now = Clock::rfc3339(em.clock.now_ms());
    update(em, site_key, id, |rec| {
        if let Some(log) = rec["log"].as_array_mut() {
            log.push(
                json!({"log_time": now, "id": uuid::Uuid::new_v4().to_string(),
                            "message": message, "type": kind as i64, "details_url": null}),
            );
        }
        if kind == LogType::Error {
            if let Some(errors) = rec["build_summary"]["errors"].as_array_mut() {
                errors.push(Value::String(message.to_string()));
            }
        } else if kind == LogType::Warning
            && let Some(w) = rec["build_summary"]["warnings"].as_array_mut()
        {
            w.push(Value::String(message.to_string()));
        }
    });
}

fn set_status(em: &Emulator, site_key: &str, id: &str, status: i64, progress: &str) {
    let now = Clock::rfc3339(em.clock.now_ms());
    update(em, site_key, id, |rec| {
        rec["status"] = json!(status);
        rec["progress"] = json!(progress);
        if status == FAILED || status == SUCCESS {
            rec["complete"] = json!(true);
            rec["end_time"] = json!(now);
            // Kudu leaves `status_text` empty on completion and reports `provisioningState`.
            rec["provisioningState"] = json!(if status == SUCCESS {
                "Succeeded"
            } else {
                "Failed"
            });
        }
        if status == SUCCESS {
            rec["last_success_end_time"] = json!(now);
        }
    });
}

/// A record as Kudu serves it (without its log).
fn public(rec: &Value) -> Value {
    let mut r = rec.clone();
    if let Some(m) = r.as_object_mut() {
        m.remove("log");
    }
    r
}

fn not_found(id: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"Message": format!("Deployment '{id}' not found.")}),
    )
}

fn find<'r>(records: &'r [Value], id: &str) -> Option<&'r Value> {
    if id.eq_ignore_ascii_case("latest") {
        return records.last();
    }
    records
        .iter()
        .find(|r| r["id"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(id)))
}

/// `GET /api/deployments`: newest first.
fn list(ctx: &Ctx<'_>) -> Response {
    let recs = records(&ctx.em.world(), &ctx.site_key);
    let out: Vec<Value> = recs.iter().rev().map(public).collect();
    json_response(StatusCode::OK, &Value::Array(out))
}

/// `GET /api/deployments/{id|latest}`.
fn get(ctx: &Ctx<'_>, id: &str) -> Response {
    let recs = records(&ctx.em.world(), &ctx.site_key);
    match find(&recs, id) {
        Some(r) => {
            let mut body = public(r);
            // Fetched as `latest`, Kudu's `url` and `log_url` say `latest` too (public az
            // outputs of `config-zip`).
            if id.eq_ignore_ascii_case("latest") {
                body["url"] = json!(format!("https://{}/api/deployments/latest", ctx.scm));
                body["log_url"] = json!(format!("https://{}/api/deployments/latest/log", ctx.scm));
            }
            json_response(StatusCode::OK, &body)
        }
        None => not_found(id),
    }
}

/// `GET /api/deployments/{id}/log`.
fn log(ctx: &Ctx<'_>, id: &str) -> Response {
    let recs = records(&ctx.em.world(), &ctx.site_key);
    match find(&recs, id) {
        Some(r) => json_response(StatusCode::OK, &r["log"]),
        None => not_found(id),
    }
}

/// `POST /api/publish`: accept the package and start the pipeline.
fn publish(ctx: &Ctx<'_>, req: &Req) -> Response {
    let ctype = req
        .header("content-type")
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !matches!(
        ctype.as_str(),
        "application/zip" | "application/x-zip-compressed" | "application/octet-stream"
    ) {
        return app_service_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            &format!("The package must be sent as application/zip, not '{ctype}'."),
        );
    }
    if req.body.is_empty() {
        return app_service_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "The request body is empty: send the zip package.",
        );
    }
    let em = ctx.em;
    let now = em.clock.now_ms();
    let id = uuid::Uuid::new_v4().to_string();
    let deployer = req.query("Deployer").unwrap_or("OneDeploy").to_string();
    let author = req.query("author").unwrap_or("N/A").to_string();
    let remote_build = req
        .query("RemoteBuild")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let record = json!({
        "id": id,
        "status": PENDING,
        "status_text": "",
        "author_email": "N/A",
        "author": author,
        "deployer": deployer,
        "message": "OneDeploy",
        "progress": "",
        "received_time": Clock::rfc3339(now),
        "start_time": Clock::rfc3339(now),
        "end_time": null,
        "last_success_end_time": null,
        "complete": false,
        "active": false,
        "is_temp": false,
        "is_readonly": true,
        "url": format!("https://{}/api/deployments/{id}", ctx.scm),
        "log_url": format!("https://{}/api/deployments/{id}/log", ctx.scm),
        "site_name": ctx.app,
        "build_summary": {"errors": [], "warnings": []},
        "log": [],
    });
    {
        let mut world = em.world();
        let entry = world
            .table(DEPLOYMENTS_TABLE)
            .entry(ctx.site_key.clone())
            .or_insert_with(|| json!({"items": []}));
        if !entry["items"].is_array() {
            entry["items"] = json!([]);
        }
        let Some(items) = entry["items"].as_array_mut() else {
            return empty(StatusCode::INTERNAL_SERVER_ERROR);
        };
        let mut busy = false;
        for r in items.iter_mut() {
            let st = r["status"].as_i64().unwrap_or(FAILED);
            if (PENDING..=DEPLOYING).contains(&st) {
                let rid = r["id"].as_str().unwrap_or_default();
                if is_running(rid) {
                    busy = true;
                } else {
                    // Its pipeline died with a previous emulator process.
                    r["status"] = json!(FAILED);
                    r["complete"] = json!(true);
                    r["provisioningState"] = json!("Failed");
                }
            }
        }
        if busy {
            drop(world);
            return app_service_error(
                StatusCode::CONFLICT,
                "Conflict",
                "There is a deployment currently in progress. Please try again when it completes.",
            );
        }
        items.push(record);
        running_insert(&id);
    }
    em.save();
    let job = Job {
        em: em.clone(),
        site_id: ctx.site_id.clone(),
        site_key: ctx.site_key.clone(),
        site: ctx.site.clone(),
        app: ctx.app.clone(),
        id: id.clone(),
        remote_build,
        package: req.body.clone(),
    };
    tokio::spawn(async move {
        let id = job.id.clone();
        job.run().await;
        running_remove(&id);
    });
    let location = format!(
        "https://{}/api/deployments/latest?deployer={}&time={}",
        ctx.scm,
        deployer,
        Clock::rfc3339(now)
    );
    with_header(empty(StatusCode::ACCEPTED), "location", &location)
}

/// One deployment pipeline.
struct Job {
    em: Arc<Emulator>,
    site_id: String,
    site_key: String,
    site: Value,
    app: String,
    id: String,
    remote_build: bool,
    package: bytes::Bytes,
}

impl Job {
    fn log(&self, message: &str, kind: LogType) {
        append_log(&self.em, &self.site_key, &self.id, message, kind);
    }

    fn fail(&self, message: &str) {
        self.log(message, LogType::Error);
        self.log("Deployment failed.", LogType::Error);
        set_status(&self.em, &self.site_key, &self.id, FAILED, "");
    }

    async fn run(self) {
        self.log("Starting deployment pipeline.", LogType::Message);
        self.log(
            &format!(
                "[Kudu-ValidationStep] Received a package of {} bytes.",
                self.package.len()
            ),
            LogType::Message,
        );
        let app_dir = deployment_dir(&self.em.work_dir, &self.app, &self.id).join("app");
        self.log(
            "[Kudu-ExtractZipStep] Extracting the package.",
            LogType::Message,
        );
        match build::unpack(self.package.clone(), app_dir.clone()).await {
            Ok(n) => self.log(
                &format!("[Kudu-ExtractZipStep] Extracted {n} entries."),
                LogType::Message,
            ),
            Err(e) => return self.fail(&e),
        }
        set_status(&self.em, &self.site_key, &self.id, BUILDING, "Building");
        let cache = build::env_cache(&self.em.work_dir, self.em.persistent);
        let logger = |m: &str, k: LogType| self.log(m, k);
        let python = if self.remote_build {
            self.log(
                "[Kudu-OryxBuildStep] Starting the build process (Oryx, Python).",
                LogType::Message,
            );
            match build::environment(&app_dir, &cache, &logger).await {
                Ok(p) => p,
                Err(e) => return self.fail(&format!("[Kudu-OryxBuildStep] {e}")),
            }
        } else {
            // Without remote build the package must carry its packages; the emulator still needs
            // an interpreter with azure-functions to index it, so it uses the build anyway and
            // says so.
            self.log(
                "RemoteBuild was not requested: Flex Consumption Python apps need a remote build; the emulator builds anyway.",
                LogType::Warning,
            );
            match build::environment(&app_dir, &cache, &logger).await {
                Ok(p) => p,
                Err(e) => return self.fail(&e),
            }
        };
        set_status(&self.em, &self.site_key, &self.id, DEPLOYING, "Deploying");
        self.log(
            "[Kudu-UploadPackageStep] Starting uploading the package to the deployment storage.",
            LogType::Message,
        );
        if let Err(e) = self.upload().await {
            return self.fail(&format!("[Kudu-UploadPackageStep] {e}"));
        }
        self.log(
            "[Kudu-SyncTriggerStep] Indexing the functions.",
            LogType::Message,
        );
        let functions = match crate::index::index(&python, &app_dir).await {
            Ok(f) => f,
            Err(e) => return self.fail(&format!("[Kudu-SyncTriggerStep] {e}")),
        };
        for f in &functions {
            self.log(
                &format!("[Kudu-SyncTriggerStep] Found function '{}'.", f.name),
                LogType::Message,
            );
        }
        self.publish_functions(&app_dir, &python, &functions);
        self.log("Finished deployment pipeline.", LogType::Message);
        set_status(&self.em, &self.site_key, &self.id, SUCCESS, "");
    }

    /// Write the package to the deployment container, as the site's identity.
    async fn upload(&self) -> Result<(), String> {
        let storage = &self.site["properties"]["functionAppConfig"]["deployment"]["storage"];
        let Some(container_url) = storage["value"].as_str().map(|s| s.trim_end_matches('/')) else {
            // Not a Flex site: nothing to upload (App Service keeps the package on its share).
            return Ok(());
        };
        let url = url::Url::parse(container_url).map_err(|e| format!("{container_url}: {e}"))?;
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let account = host
            .strip_suffix(".blob.core.windows.net")
            .unwrap_or_default()
            .to_string();
        let container = url
            .path()
            .trim_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let blob_url = format!("{container_url}/{PACKAGE_BLOB}");
        let now = self.em.clock.now_ms();
        {
            let world = self.em.world();
            let account_res = world.resources.values().find(|v| {
                v["type"] == "Microsoft.Storage/storageAccounts"
                    && v["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&account))
            });
            let Some(account_res) = account_res else {
                return Err(format!(
                    "Failed to upload the package: No such host is known. ({host}:443)"
                ));
            };
            let account_id = account_res["id"].as_str().unwrap_or_default().to_string();
            let container_id = format!("{account_id}/blobServices/default/containers/{container}");
            if !store::exists(&world, &container_id) {
                return Err(storage_error(
                    404,
                    "The specified container does not exist.",
                    "ContainerNotFound",
                ));
            }
            let auth = &storage["authentication"];
            let kind = auth["type"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let principal = match kind.as_str() {
                "systemassignedidentity" => self.site["identity"]["principalId"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| {
                        "Failed to upload the package: ManagedIdentityCredential authentication unavailable: the site has no system-assigned identity.".to_string()
                    })?,
                "userassignedidentity" => {
                    let uai = auth["userAssignedIdentityResourceId"]
                        .as_str()
                        .unwrap_or_default();
                    store::get(&world, uai)
                        .and_then(|v| v["properties"]["principalId"].as_str().map(str::to_string))
                        .ok_or_else(|| {
                            format!("Failed to upload the package: the user-assigned identity '{uai}' was not found.")
                        })?
                }
                // A connection string authenticates with the account key: no role needed.
                _ => String::new(),
            };
            if !principal.is_empty()
                && !blob_write_access(&world, &principal, &account_id, now, &self.em.clock)
            {
                return Err(storage_error(
                    403,
                    "This request is not authorized to perform this operation using this permission.",
                    "AuthorizationPermissionMismatch",
                ));
            }
        }
        let dir = self.em.work_dir.join("blobs");
        let name = crate::build::env_hash("blob", blob_url.as_bytes());
        let path = dir.join(&name);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| e.to_string())?;
        tokio::fs::write(&path, &self.package)
            .await
            .map_err(|e| e.to_string())?;
        let digest = crate::build::env_hash("", &self.package);
        {
            let mut world = self.em.world();
            world.table(BLOBS_TABLE).insert(
                blob_url.clone(),
                json!({"path": path.display().to_string(), "contentLength": self.package.len(),
                       "sha256": digest, "lastModifiedMs": now,
                       "contentType": "application/zip"}),
            );
        }
        self.em.save();
        self.log(
            &format!("[Kudu-UploadPackageStep] Uploaded the package to {blob_url}."),
            LogType::Message,
        );
        Ok(())
    }

    /// Record the successful deployment (shared contract) and publish the functions to ARM.
    fn publish_functions(
        &self,
        app_dir: &std::path::Path,
        python: &std::path::Path,
        functions: &[crate::index::Function],
    ) {
        let now = self.em.clock.now_ms();
        let host = self.site["properties"]["defaultHostName"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}.azurewebsites.net", self.app.to_ascii_lowercase()));
        let mut props = serde_json::Map::new();
        for f in functions {
            props.insert(
                f.name.clone(),
                crate::arm::web::function_properties(
                    &self.site_id,
                    &host,
                    &f.name,
                    Value::Array(f.bindings.clone()),
                    Some(f.route.as_deref().unwrap_or(&f.name)),
                ),
            );
        }
        {
            let mut world = self.em.world();
            world.table(CONTRACT_TABLE).insert(
                self.site_key.clone(),
                json!({
                    "id": self.id,
                    "status": SUCCESS,
                    "appDir": app_dir.display().to_string(),
                    "python": python.display().to_string(),
                    "functions": functions.iter().map(|f| f.contract()).collect::<Vec<_>>(),
                    "deployedMs": now,
                }),
            );
            world
                .table(crate::arm::web::FUNCTIONS_TABLE)
                .insert(self.site_key.clone(), Value::Object(props));
            if let Some(items) = world
                .table(DEPLOYMENTS_TABLE)
                .get_mut(&self.site_key)
                .and_then(|e| e["items"].as_array_mut())
            {
                for r in items {
                    r["active"] = json!(r["id"] == self.id.as_str());
                }
            }
        }
        self.em.save();
    }
}

/// `Azure.Storage`'s `RequestFailedException` text, as the deployment log shows it.
fn storage_error(status: u16, message: &str, code: &str) -> String {
    format!(
        "Failed to upload the package: {message}\nStatus: {status} ({message})\nErrorCode: {code}"
    )
}

/// Can `principal` write blobs in the account (a Storage Blob Data Owner/Contributor
/// assignment at or above it, older than the scaled propagation delay)?
pub fn blob_write_access(
    world: &World,
    principal: &str,
    account_id: &str,
    now_ms: u64,
    clock: &Clock,
) -> bool {
    let delay = clock.scaled(ROLE_PROPAGATION).as_millis() as u64;
    let principal = principal.to_ascii_lowercase();
    rbac::assignments(world).iter().any(|a| {
        a.principal_id == principal
            && a.role.blob_data
            && !a.role.name.ends_with("Reader")
            && rbac::covers(&a.scope, account_id)
            && now_ms >= a.created_ms.saturating_add(delay)
    })
}

/// Where a deployment unpacks (for the function host and tests).
pub fn deployment_dir(work_dir: &std::path::Path, app: &str, id: &str) -> PathBuf {
    work_dir
        .join("deployments")
        .join(app.to_ascii_lowercase())
        .join(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world_with(role: &str, created_ms: u64) -> World {
        let mut w = World::new();
        w.resources.insert(
            key("/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/st/providers/Microsoft.Authorization/roleAssignments/a"),
            json!({"properties": {"roleDefinitionId": role, "principalId": "P"}, "_createdMs": created_ms}),
        );
        w
    }

    const ACCOUNT: &str =
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/st";

    #[test]
    fn blob_roles_take_effect_after_the_scaled_propagation_delay() {
        let clock = Clock::new(1.0);
        let w = world_with("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", 1_000_000);
        assert!(!blob_write_access(&w, "p", ACCOUNT, 1_000_000, &clock));
        assert!(!blob_write_access(&w, "p", ACCOUNT, 1_059_999, &clock));
        assert!(blob_write_access(&w, "p", ACCOUNT, 1_060_000, &clock));
        assert!(!blob_write_access(&w, "other", ACCOUNT, 2_000_000, &clock));
        // At scale 0.001 a minute is 60 ms.
        assert!(blob_write_access(
            &w,
            "p",
            ACCOUNT,
            1_000_060,
            &Clock::new(0.001)
        ));
    }

    #[test]
    fn readers_and_control_plane_roles_cannot_write_blobs() {
        let clock = Clock::new(0.0);
        for role in [
            "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", // Storage Blob Data Reader
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", // Owner
        ] {
            let w = world_with(role, 0);
            assert!(!blob_write_access(&w, "p", ACCOUNT, 10, &clock), "{role}");
        }
        let w = world_with("ba92f5b4-2d11-453d-a403-e96b0029c9fe", 0);
        assert!(blob_write_access(&w, "p", ACCOUNT, 10, &clock));
    }
}
