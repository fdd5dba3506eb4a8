//! `apimfn config show`: the resolved settings, the derived names, where each value came from,
//! and which credential variables are set. Never a credential value; no network.

use super::{Key, Settings};
use crate::output::{OutputFormat, Printer};
use serde_json::{Map, Value, json};

/// Print the settings in the printer's format.
pub fn config_show(settings: &Settings, printer: &Printer) {
    match printer.format() {
        OutputFormat::Text => printer.result_text(&to_text(settings)),
        OutputFormat::Json => printer.result_json(&to_json(settings)),
    }
}

/// The displayed value of each setting, `None` when unset.
fn value(settings: &Settings, key: Key) -> Option<String> {
    let s = settings;
    let opt = |v: &Option<String>| v.clone();
    match key {
        Key::Config => s.config_file.as_ref().map(|p| p.display().to_string()),
        Key::Subscription => opt(&s.subscription),
        Key::ResourceGroup => opt(&s.resource_group),
        Key::Location => opt(&s.location),
        Key::Name => opt(&s.name),
        Key::ApimName => opt(&s.apim_name),
        Key::FunctionAppName => opt(&s.function_app_name),
        Key::PlanName => opt(&s.plan_name),
        Key::StorageAccountName => opt(&s.storage_account_name),
        Key::DeploymentContainerName => opt(&s.deployment_container_name),
        Key::PublisherEmail => opt(&s.publisher_email),
        Key::PublisherName => Some(s.publisher_name.clone()),
        Key::Auth => Some(s.auth.to_string()),
        Key::Cloud => Some(s.cloud.to_string()),
        Key::Emulator => opt(&s.emulator),
        Key::EmulatorCa => s.emulator_ca.as_ref().map(|p| p.display().to_string()),
        Key::Output => Some(
            match s.output {
                OutputFormat::Text => "text",
                OutputFormat::Json => "json",
            }
            .to_string(),
        ),
    }
}

/// Aligned `key = value  (source)` lines, then the credential variables.
pub fn to_text(settings: &Settings) -> String {
    let rows: Vec<(&str, String, String)> = Key::ALL
        .iter()
        .map(|&k| {
            (
                k.name(),
                value(settings, k).unwrap_or_else(|| "<unset>".into()),
                settings.source(k).to_string(),
            )
        })
        .collect();
    let kw = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let vw = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v, src) in &rows {
        out.push_str(&format!("{k:<kw$} = {v:<vw$}  ({src})\n"));
    }
    out.push_str("\ncredentials (environment; values are never shown):\n");
    let entries = settings.credentials.entries();
    let cw = entries.iter().map(|e| e.0.len()).max().unwrap_or(0);
    for (var, _, set) in entries {
        let state = if set { "set" } else { "unset" };
        out.push_str(&format!("{var:<cw$} = {state}\n"));
    }
    out.trim_end().to_string()
}

/// One object: every setting under its camelCase key (null when unset), `sources` with one word
/// per setting, and `credentials` with `set`/`unset` per variable.
pub fn to_json(settings: &Settings) -> Value {
    let mut obj = Map::new();
    let mut sources = Map::new();
    for k in Key::ALL {
        let key = if k == Key::Config {
            "configFile".to_string()
        } else {
            k.json_key()
        };
        obj.insert(
            key.clone(),
            value(settings, k).map(Value::String).unwrap_or(Value::Null),
        );
        sources.insert(key, json!(settings.source(k).kind()));
    }
    obj.insert("sources".into(), Value::Object(sources));
    let creds: Map<String, Value> = settings
        .credentials
        .entries()
        .into_iter()
        .map(|(_, key, set)| (key.to_string(), json!(if set { "set" } else { "unset" })))
        .collect();
    obj.insert("credentials".into(), Value::Object(creds));
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::GlobalArgs;
    use crate::settings::resolve;

    const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

    fn resolved(env: &[(&str, &str)]) -> Settings {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve(&GlobalArgs::default(), &|k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
        .expect("resolve")
    }

    #[test]
    fn json_has_camel_case_values_sources_and_credentials_but_no_secret() {
        let s = resolved(&[
            ("APIMFN_NAME", "demo"),
            ("AZURE_SUBSCRIPTION_ID", SUB),
            ("AZURE_CLIENT_SECRET", "super-secret-value-123"),
        ]);
        let v = to_json(&s);
        assert_eq!(v["name"], "demo");
        assert_eq!(v["apimName"], "demo-apim");
        assert_eq!(v["functionAppName"], "demo-func");
        assert_eq!(v["resourceGroup"], "demo-rg");
        assert_eq!(v["location"], Value::Null);
        assert_eq!(v["configFile"], Value::Null);
        assert_eq!(v["sources"]["name"], "env");
        assert_eq!(v["sources"]["apimName"], "derived");
        assert_eq!(v["sources"]["publisherName"], "default");
        assert_eq!(v["sources"]["location"], "unset");
        assert_eq!(v["credentials"]["clientSecret"], "set");
        assert_eq!(v["credentials"]["tenantId"], "unset");
        assert!(!v.to_string().contains("super-secret-value-123"));
    }

    #[test]
    fn text_is_aligned_and_names_sources() {
        let s = resolved(&[
            ("APIMFN_NAME", "demo"),
            ("AZURE_CLIENT_SECRET", "s3cr3t-s3cr3t"),
        ]);
        let t = to_text(&s);
        assert!(t.contains("(env APIMFN_NAME)"), "{t}");
        assert!(t.contains("(derived from name)"), "{t}");
        assert!(t.contains("<unset>"), "{t}");
        assert!(t.contains("AZURE_CLIENT_SECRET        = set"), "{t}");
        assert!(!t.contains("s3cr3t"), "{t}");
        let eq_cols: Vec<usize> = t
            .lines()
            .take(Key::ALL.len())
            .filter_map(|l| l.find(" = "))
            .collect();
        assert!(eq_cols.windows(2).all(|w| w[0] == w[1]), "{t}");
    }
}
