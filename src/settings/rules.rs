//! Offline validation rules, one function per kind of value. Each returns `Err(rule)` with the
//! rule in words, so that the caller can name the setting and the value around it.
//!
//! Sources: "Naming rules and restrictions for Azure resources" (learn.microsoft.com,
//! azure-resource-manager/management/resource-name-rules) for the resource names; the APIM
//! 2024-05-01 spec for the publisher fields (maxLength 100).

/// Microsoft.ApiManagement/service: global (`{name}.azure-api.net`).
pub const APIM_NAME: &str =
    "1–50 letters, digits and hyphens, starting with a letter and not ending with a hyphen";
/// Microsoft.Web/sites: global (`{name}.azurewebsites.net`).
pub const FUNCTION_APP_NAME: &str =
    "2–60 letters, digits and hyphens, not starting or ending with a hyphen";
/// Microsoft.Web/serverfarms: unique in the resource group.
pub const PLAN_NAME: &str = "1–60 letters, digits and hyphens";
/// Microsoft.Resources/resourceGroups.
pub const RESOURCE_GROUP: &str =
    "1–90 letters, digits, underscores, hyphens, periods and parentheses, not ending with a period";
/// Microsoft.Storage/storageAccounts: global (`{name}.blob.core.windows.net`).
pub const STORAGE_ACCOUNT_NAME: &str = "3–24 lowercase letters and digits";
/// Blob container names.
pub const CONTAINER_NAME: &str = "3–63 lowercase letters, digits and hyphens, starting and ending with a letter or digit, no two hyphens in a row";
pub const SUBSCRIPTION: &str =
    "a GUID of 8-4-4-4-12 hexadecimal digits, e.g. 00000000-0000-0000-0000-000000000000";
pub const LOCATION: &str = "a programmatic region name: lowercase letters and digits only";
pub const PUBLISHER_EMAIL: &str = "an e-mail address of at most 100 characters: one @, a non-empty local part and a dotted domain, no spaces";
pub const PUBLISHER_NAME: &str = "1–100 characters, no control characters";
pub const EMULATOR: &str = "`embedded` or an https:// URL with a host, e.g. https://127.0.0.1:8443";
pub const OUTPUT: &str = "must be text or json";
pub const AUTH: &str =
    "must be one of auto, cli, client-secret, workload-identity, managed-identity, azure-pipelines";
pub const CLOUD: &str = "must be one of AzureCloud, AzureChinaCloud, AzureUSGovernment";

fn ascii_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn len_between(v: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&v.chars().count())
}

fn check(ok: bool, rule: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(rule.to_string()) }
}

pub fn apim_name(v: &str) -> Result<(), String> {
    // ^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$
    let ok = len_between(v, 1, 50)
        && v.chars().all(ascii_name_char)
        && v.starts_with(|c: char| c.is_ascii_alphabetic())
        && !v.ends_with('-');
    check(ok, APIM_NAME)
}

/// ASCII only: Azure also takes Unicode that maps to Punycode, but such a host name is a
/// trap for every tool downstream, so apimfn keeps to the safe subset.
pub fn function_app_name(v: &str) -> Result<(), String> {
    let ok = len_between(v, 2, 60)
        && v.chars().all(ascii_name_char)
        && !v.starts_with('-')
        && !v.ends_with('-');
    check(ok, FUNCTION_APP_NAME)
}

pub fn plan_name(v: &str) -> Result<(), String> {
    check(
        len_between(v, 1, 60) && v.chars().all(ascii_name_char),
        PLAN_NAME,
    )
}

/// ARM's rule: `Char.IsLetterOrDigit` (Unicode letters and digits), `_-.()`, no trailing period.
pub fn resource_group(v: &str) -> Result<(), String> {
    let ok = len_between(v, 1, 90)
        && v.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')'))
        && !v.ends_with('.');
    check(ok, RESOURCE_GROUP)
}

pub fn storage_account_name(v: &str) -> Result<(), String> {
    let ok = len_between(v, 3, 24)
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    check(ok, STORAGE_ACCOUNT_NAME)
}

pub fn container_name(v: &str) -> Result<(), String> {
    let ok = len_between(v, 3, 63)
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.starts_with('-')
        && !v.ends_with('-')
        && !v.contains("--");
    check(ok, CONTAINER_NAME)
}

pub fn subscription(v: &str) -> Result<(), String> {
    let groups: Vec<&str> = v.split('-').collect();
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    check(ok, SUBSCRIPTION)
}

/// Regions are named the way ARM's `location` field wants them (`japaneast`), not by their
/// display name (`Japan East`); the hint turns the latter into the former.
pub fn location(v: &str) -> Result<(), String> {
    let ok = len_between(v, 1, 64)
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        return Ok(());
    }
    let suggestion: String = v
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let example = if suggestion.is_empty() || suggestion == v {
        "japaneast".to_string()
    } else {
        suggestion
    };
    Err(format!(
        "{LOCATION}; use the programmatic name, e.g. {example} (`az account list-locations -o table` lists them)"
    ))
}

/// A sane subset, not RFC 5322: APIM sends mail there, so an obviously broken address should
/// fail here rather than after a 45-minute activation.
pub fn publisher_email(v: &str) -> Result<(), String> {
    let ok = (|| {
        if !len_between(v, 3, 100) || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return false;
        }
        let mut parts = v.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        !local.is_empty()
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty())
    })();
    check(ok, PUBLISHER_EMAIL)
}

pub fn publisher_name(v: &str) -> Result<(), String> {
    check(
        len_between(v, 1, 100) && !v.chars().any(char::is_control),
        PUBLISHER_NAME,
    )
}

pub fn emulator(v: &str) -> Result<(), String> {
    if v == "embedded" {
        return Ok(());
    }
    let ok = url::Url::parse(v)
        .map(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()))
        .unwrap_or(false);
    check(ok, EMULATOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apim_name_rule() {
        for ok in ["a", "myApim", "my-apim-1", &format!("a{}", "b".repeat(49))] {
            assert!(apim_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1apim",
            "-apim",
            "apim-",
            "my_apim",
            "my apim",
            &"a".repeat(51),
        ] {
            assert_eq!(apim_name(bad), Err(APIM_NAME.to_string()), "{bad}");
        }
    }

    #[test]
    fn function_app_name_rule() {
        for ok in ["ab", "1app", "my-func", &"a".repeat(60)] {
            assert!(function_app_name(ok).is_ok(), "{ok}");
        }
        for bad in ["a", "-app", "app-", "My_App", "app.x", &"a".repeat(61)] {
            assert!(function_app_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plan_name_rule() {
        for ok in ["p", "my-plan", "-p", &"a".repeat(60)] {
            assert!(plan_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "my_plan", "plan.x", &"a".repeat(61)] {
            assert!(plan_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resource_group_rule_accepts_unicode_letters_and_rejects_a_trailing_period() {
        for ok in ["rg", "my_rg-1.(test)", "リソース", "ä", &"r".repeat(90)] {
            assert!(resource_group(ok).is_ok(), "{ok}");
        }
        for bad in ["", "rg.", "rg/x", "rg x", "rg#", &"r".repeat(91)] {
            assert!(resource_group(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn storage_account_name_rule() {
        for ok in ["abc", "st0123456789", &"a".repeat(24)] {
            assert!(storage_account_name(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "Abc", "ab-c", &"a".repeat(25)] {
            assert!(storage_account_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn container_name_rule() {
        assert!(container_name("app-package-demo-func-1a2b3c4").is_ok());
        for bad in ["ab", "-abc", "abc-", "a--b", "Abc", &"a".repeat(64)] {
            assert!(container_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subscription_is_a_guid() {
        assert!(subscription("0b1f6471-1bf0-4dda-aec3-cb9272f09590").is_ok());
        assert!(subscription("0B1F6471-1BF0-4DDA-AEC3-CB9272F09590").is_ok());
        for bad in [
            "",
            "not-a-guid",
            "0b1f64711bf04ddaaec3cb9272f09590",
            "{0b1f6471-1bf0-4dda-aec3-cb9272f09590}",
            "0b1f6471-1bf0-4dda-aec3-cb9272f0959g",
            "0b1f6471-1bf0-4dda-aec3cb9-272f09590",
        ] {
            assert_eq!(subscription(bad), Err(SUBSCRIPTION.to_string()), "{bad}");
        }
    }

    #[test]
    fn location_is_the_programmatic_name_with_a_hint() {
        assert!(location("japaneast").is_ok());
        assert!(location("eastus2").is_ok());
        let err = location("Japan East").unwrap_err();
        assert!(
            err.contains("use the programmatic name, e.g. japaneast"),
            "{err}"
        );
        assert!(location("").is_err());
        assert!(location("east-us").unwrap_err().contains("e.g. eastus"));
    }

    #[test]
    fn publisher_email_rule() {
        for ok in ["ops@example.com", "a.b+c@mail.example.co.jp"] {
            assert!(publisher_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ops",
            "@example.com",
            "ops@example",
            "ops@@example.com",
            "o@p@example.com",
            "ops@example..com",
            "ops@.com",
            "o ps@example.com",
        ] {
            assert!(publisher_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn publisher_name_rule() {
        assert!(publisher_name("Contoso Ltd.").is_ok());
        assert!(publisher_name("").is_err());
        assert!(publisher_name(&"x".repeat(101)).is_err());
        assert!(publisher_name("a\nb").is_err());
    }

    #[test]
    fn emulator_is_embedded_or_an_https_url() {
        for ok in ["embedded", "https://127.0.0.1:8443", "https://localhost:1/"] {
            assert!(emulator(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Embedded",
            "http://127.0.0.1:8443",
            "127.0.0.1:8443",
            "https://",
        ] {
            assert!(emulator(bad).is_err(), "{bad}");
        }
    }
}
