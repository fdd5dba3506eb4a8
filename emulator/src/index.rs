//! Indexing a deployed Python v2 app the way the Python worker does: import `function_app.py` in
//! the built environment with the real `azure-functions` package, find the one top-level
//! `FunctionRegister` (`func.FunctionApp()`), and read `get_functions()` — names and the raw
//! bindings the library writes.
//!
//! Sources: arm-reference §5 (the v2 HTTP trigger binding; the library writes enum NAMES, so
//! `authLevel` is `"ANONYMOUS"`; no `methods` means every method); azure-functions-python-worker
//! `loader.index_function_app` (top-level `FunctionRegister` instances; "Could not find top level
//! function app instances in function_app.py."); azure-functions `FunctionBuilder` /
//! `Function.get_raw_bindings()`. Binding `direction` is lowercased (`in`/`out`) as the host
//! reports it in `config.bindings` (arm-reference §5's expected binding).

use serde_json::{Value, json};
use std::path::Path;

/// Marks the line that carries the result, so prints at import time do not confuse the parser.
const MARKER: &str = "@@APIMFN-EMULATOR-INDEX@@";

/// Run by the venv's python with the app directory as its argument.
const SCRIPT: &str = r#"
import importlib.util, json, os, sys
app_dir = sys.argv[1]
sys.path.insert(0, app_dir)
os.chdir(app_dir)
import azure.functions as func
path = os.path.join(app_dir, "function_app.py")
if not os.path.exists(path):
    sys.stderr.write("function_app.py was not found at the root of the package.\n")
    sys.exit(3)
spec = importlib.util.spec_from_file_location("function_app", path)
module = importlib.util.module_from_spec(spec)
sys.modules["function_app"] = module
spec.loader.exec_module(module)
apps = [v for v in vars(module).values() if isinstance(v, func.FunctionRegister)]
if not apps:
    sys.stderr.write("ValueError: Could not find top level function app instances in function_app.py.\n")
    sys.exit(3)
if len(apps) > 1:
    sys.stderr.write("ValueError: More than one FunctionApp or other top level function app instances are defined.\n")
    sys.exit(3)
out = []
for f in apps[0].get_functions():
    out.append({"name": f.get_function_name(),
                "bindings": [json.loads(b) for b in f.get_raw_bindings()]})
print()
print("@@APIMFN-EMULATOR-INDEX@@" + json.dumps(out))
"#;

/// One indexed function: the shared-contract entry (`name`, `route`, `methods`, `authLevel`) and
/// its bindings as `config.bindings` shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: String,
    pub route: Option<String>,
    pub methods: Option<Vec<String>>,
    pub auth_level: Option<String>,
    pub bindings: Vec<Value>,
}

impl Function {
    /// The `web.deployments` contract entry.
    pub fn contract(&self) -> Value {
        json!({
            "name": self.name,
            "route": self.route.clone().unwrap_or_else(|| self.name.clone()),
            "methods": self.methods,
            "authLevel": self.auth_level.clone().unwrap_or_else(|| "FUNCTION".into()),
        })
    }
}

/// Index the app in `app_dir` with `python`; `Err` carries the worker's error output.
pub async fn index(python: &Path, app_dir: &Path) -> Result<Vec<Function>, String> {
    let (ok, code, out) = crate::build::run(
        tokio::process::Command::new(python)
            .arg("-c")
            .arg(SCRIPT)
            .arg(app_dir)
            .env("PYTHONDONTWRITEBYTECODE", "1"),
    )
    .await
    .map_err(|e| format!("could not run {}: {e}", python.display()))?;
    if !ok {
        return Err(format!(
            "{}\nIndexing function_app.py failed (exit code {code}).",
            out.trim_end()
        ));
    }
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix(MARKER))
        .ok_or_else(|| format!("the indexer printed no result: {out}"))?;
    let raw: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    Ok(parse(&raw))
}

/// Turn the script's `[{name, bindings}]` into functions.
pub fn parse(raw: &Value) -> Vec<Function> {
    raw.as_array()
        .map(|a| a.iter().filter_map(function).collect())
        .unwrap_or_default()
}

fn function(v: &Value) -> Option<Function> {
    let name = v["name"].as_str()?.to_string();
    let bindings: Vec<Value> = v["bindings"]
        .as_array()
        .map(|b| b.iter().map(normalize_binding).collect())
        .unwrap_or_default();
    let trigger = bindings.iter().find(|b| {
        b["type"]
            .as_str()
            .is_some_and(|t| t.to_ascii_lowercase().ends_with("trigger"))
    });
    let http = trigger.filter(|t| t["type"].as_str() == Some("httpTrigger"));
    let route = http.and_then(|t| t["route"].as_str()).map(str::to_string);
    let methods = http.and_then(|t| t["methods"].as_array()).map(|m| {
        m.iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_uppercase)
            .collect()
    });
    let auth_level = http
        .and_then(|t| t["authLevel"].as_str())
        .map(str::to_ascii_uppercase);
    Some(Function {
        name,
        route,
        methods,
        auth_level,
        bindings,
    })
}

fn normalize_binding(b: &Value) -> Value {
    let mut b = b.clone();
    if let Some(d) = b["direction"].as_str() {
        b["direction"] = Value::String(d.to_ascii_lowercase());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_trigger_fields_are_read_from_the_library_output() {
        let raw = json!([{"name": "HttpExample", "bindings": [
            {"direction": "IN", "type": "httpTrigger", "name": "req", "methods": ["GET", "POST"],
             "authLevel": "ANONYMOUS", "route": "HttpExample"},
            {"direction": "OUT", "type": "http", "name": "$return"}]},
            {"name": "NoMethods", "bindings": [
            {"direction": "IN", "type": "httpTrigger", "name": "req", "authLevel": "FUNCTION"}]}]);
        let f = parse(&raw);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].route.as_deref(), Some("HttpExample"));
        assert_eq!(
            f[0].methods,
            Some(vec!["GET".to_string(), "POST".to_string()])
        );
        assert_eq!(f[0].auth_level.as_deref(), Some("ANONYMOUS"));
        assert_eq!(f[0].bindings[0]["direction"], "in");
        assert_eq!(f[0].bindings[1]["direction"], "out");
        assert_eq!(
            f[1].contract(),
            json!({"name": "NoMethods", "route": "NoMethods", "methods": null, "authLevel": "FUNCTION"})
        );
    }
}
