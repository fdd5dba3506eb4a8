//! The fixed catalogues: regions (`geoRegions`) and function app stacks (`functionAppStacks`).
//!
//! geoRegions entries have the recording's shape (`test_functionapp_keys_list.yaml` #0: `id`
//! `…/geoRegions/{Display Name}`, `name` = display name, `properties{name, description, sortOrder,
//! displayName, orgDomain}`); the Flex list is a realistic snapshot (arm-reference §3.0 plus the
//! later additions), with `japaneast` in and `japanwest` out. The stacks shape follows the
//! `Sku[]` entries the Functions portal and azure-cli's `_FlexFunctionAppStackRuntimeHelper` read
//! (`skuCode`, `instanceMemoryMB[{size,isDefault}]`, `maximumInstanceCount{lowest…, highest…,
//! defaultValue}`, `functionAppConfigProperties.runtime{name,version}`).

use super::super::{Call, locations};
use crate::http::json_response;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

/// Regions offering Flex Consumption (programmatic names). Zone-redundant ones also carry
/// `FCZONEREDUNDANCY` in `orgDomain`.
pub const FLEX_REGIONS: &[(&str, bool)] = &[
    ("australiaeast", true),
    ("brazilsouth", false),
    ("canadacentral", false),
    ("centralindia", false),
    ("centralus", false),
    ("eastasia", true),
    ("eastus", true),
    ("eastus2", true),
    ("francecentral", false),
    ("germanywestcentral", false),
    ("japaneast", true),
    ("koreacentral", false),
    ("northcentralus", false),
    ("northeurope", true),
    ("norwayeast", false),
    ("southafricanorth", false),
    ("southcentralus", true),
    ("southeastasia", true),
    ("swedencentral", true),
    ("switzerlandnorth", false),
    ("uaenorth", false),
    ("uksouth", true),
    ("westcentralus", false),
    ("westeurope", true),
    ("westus2", true),
    ("westus3", true),
];

/// Memory sizes a Flex instance can have (MB); 2048 is the default.
pub const INSTANCE_MEMORY_MB: &[i64] = &[512, 2048, 4096];
/// Bounds of `maximumInstanceCount` (Microsoft docs, event-driven scaling: 1 … 1000; default 100).
pub const MAX_INSTANCES: (i64, i64, i64) = (1, 1000, 100);

/// Flex runtimes: (name, display, versions, default version).
pub const FLEX_RUNTIMES: &[(&str, &str, &[&str], &str)] = &[
    (
        "python",
        "Python",
        &["3.10", "3.11", "3.12", "3.13"],
        "3.12",
    ),
    ("node", "Node.js", &["20", "22"], "22"),
    ("dotnet-isolated", ".NET", &["8.0", "9.0"], "8.0"),
    ("java", "Java", &["11", "17", "21"], "17"),
    ("powershell", "PowerShell Core", &["7.4"], "7.4"),
    ("custom", "Custom Handler", &["1.0"], "1.0"),
];

pub fn is_flex_region(location: &str) -> bool {
    let code = locations::normalize(location);
    FLEX_REGIONS.iter().any(|(c, _)| *c == code)
}

/// Whether a runtime name/version pair is offered on Flex.
pub fn runtime_supported(name: &str, version: &str) -> bool {
    FLEX_RUNTIMES
        .iter()
        .any(|(n, _, versions, _)| n.eq_ignore_ascii_case(name) && versions.contains(&version))
}

/// The `Sku[]` entry for one Flex runtime version.
fn flex_sku(name: &str, version: &str) -> Value {
    let (lowest, highest, default) = MAX_INSTANCES;
    json!({
        "skuCode": "FC1",
        "instanceMemoryMB": INSTANCE_MEMORY_MB
            .iter()
            .map(|s| json!({"size": s, "isDefault": *s == 2048}))
            .collect::<Vec<_>>(),
        "maximumInstanceCount": {
            "lowestMaximumInstanceCount": lowest,
            "highestMaximumInstanceCount": highest,
            "defaultValue": default,
        },
        "functionAppConfigProperties": {"runtime": {"name": name, "version": version}},
    })
}

fn linux_fx(name: &str, version: &str) -> String {
    let upper = match name {
        "python" => "Python",
        "node" => "Node",
        "dotnet-isolated" => "DOTNET-ISOLATED",
        "java" => "Java",
        "powershell" => "PowerShell",
        _ => return String::new(),
    };
    format!("{upper}|{version}")
}

fn stack(name: &str, display: &str, versions: &[&str], default: &str) -> Value {
    let minors: Vec<Value> = versions
        .iter()
        .rev()
        .map(|v| {
            json!({
                "displayText": format!("{display} {v}"),
                "value": v,
                "stackSettings": {"linuxRuntimeSettings": {
                    "runtimeVersion": linux_fx(name, v),
                    "isPreview": false,
                    "isDeprecated": false,
                    "isHidden": false,
                    "isDefault": *v == default,
                    "remoteDebuggingSupported": false,
                    "appInsightsSettings": {"isSupported": true},
                    "gitHubActionSettings": {"isSupported": true, "supportedVersion": v},
                    "appSettingsDictionary": {"FUNCTIONS_WORKER_RUNTIME": name},
                    "siteConfigPropertiesDictionary": {
                        "use32BitWorkerProcess": false,
                        "linuxFxVersion": linux_fx(name, v),
                    },
                    "supportedFunctionsExtensionVersions": ["~4"],
                    "Sku": [flex_sku(name, v)],
                }},
            })
        })
        .collect();
    json!({
        "id": null,
        "name": name,
        "type": "Microsoft.Web/locations/functionAppStacks",
        "properties": {
            "displayText": display,
            "value": name,
            "preferredOs": "linux",
            "majorVersions": [{
                "displayText": display,
                "value": name,
                "minorVersions": minors,
            }],
        },
    })
}

/// `GET /providers/Microsoft.Web[/locations/{loc}]/functionAppStacks?stack=…`.
pub fn stacks(call: &Call<'_>) -> Response {
    let wanted = call.req.query("stack").map(str::to_ascii_lowercase);
    let location = call
        .path
        .name(0)
        .filter(|_| call.path.type_path() == "locations");
    // A region without Flex offers no FC1 runtimes; the stacks themselves stay listed.
    let flex = location.is_none_or(is_flex_region);
    let value: Vec<Value> = FLEX_RUNTIMES
        .iter()
        .filter(|(n, ..)| wanted.as_deref().is_none_or(|w| w == *n))
        .map(|(n, d, vs, def)| {
            let mut s = stack(n, d, vs, def);
            if !flex
                && let Some(minors) =
                    s["properties"]["majorVersions"][0]["minorVersions"].as_array_mut()
            {
                for m in minors {
                    m["stackSettings"]["linuxRuntimeSettings"]["Sku"] = Value::Null;
                }
            }
            s
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"value": value, "nextLink": null, "id": null}),
    )
}

const BASE_ORG_DOMAIN: &str = "PUBLIC;DREAMSPARK;MSFTPUBLIC;FUNCTIONS;DYNAMIC;LINUX;DSERIES;LINUXDSERIES;ELASTICPREMIUM;LINUXFREE;ELASTICLINUX;LINUXDYNAMIC;XENON;XENONV3;WINDOWSV3;LINUXV3";

/// `GET /subscriptions/{sub}/providers/Microsoft.Web/geoRegions?sku=…`: the Flex list for
/// `sku=FlexConsumption`, every modelled region otherwise.
pub fn geo_regions(call: &Call<'_>) -> Response {
    let sub = call.path.subscription.as_deref().unwrap_or_default();
    let flex_only = call
        .req
        .query("sku")
        .is_some_and(|s| s.eq_ignore_ascii_case("FlexConsumption"));
    let value: Vec<Value> = locations::REGIONS
        .iter()
        .enumerate()
        .filter_map(|(i, (code, display))| {
            let flex = FLEX_REGIONS.iter().find(|(c, _)| c == code);
            if flex_only && flex.is_none() {
                return None;
            }
            let mut org = BASE_ORG_DOMAIN.to_string();
            if let Some((_, zr)) = flex {
                org.push_str(";FLEXCONSUMPTION");
                if *zr {
                    org.push_str(";FCZONEREDUNDANCY");
                }
            }
            org.push_str(";ZONEREDUNDANCY");
            Some(json!({
                "id": format!("/subscriptions/{sub}/providers/Microsoft.Web/geoRegions/{display}"),
                "name": display,
                "type": "Microsoft.Web/geoRegions",
                "properties": {
                    "name": display,
                    "description": null,
                    "sortOrder": i,
                    "displayName": display,
                    "orgDomain": org,
                },
            }))
        })
        .collect();
    json_response(StatusCode::OK, &json!({"value": value}))
}
