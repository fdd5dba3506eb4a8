//! Derived resource names. Every rule is a pure function of the settings it names, so a name
//! never changes between runs for the same inputs (re-running converges on the same resources).

use sha2::{Digest, Sha256};

/// `{name}-rg` (suffix, like the other derived names, so a project's resources sort together).
pub fn resource_group(name: &str) -> String {
    format!("{name}-rg")
}

/// `{name}-apim`
pub fn apim(name: &str) -> String {
    format!("{name}-apim")
}

/// `{name}-func`
pub fn function_app(name: &str) -> String {
    format!("{name}-func")
}

/// `{name}-plan`
pub fn plan(name: &str) -> String {
    format!("{name}-plan")
}

fn sha256_hex(input: &str, chars: usize) -> String {
    let digest = Sha256::digest(input.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..chars].to_string()
}

/// `st` + the first 14 lowercase ASCII letters/digits of `name` + 8 hex characters of
/// SHA-256(`{subscription}/{resource_group}/{name}`, lowercased).
///
/// Storage account names are global and only `[a-z0-9]{3,24}`; the hash makes the name unique
/// in practice while staying stable for the same subscription, group and base name (Azure names
/// are case-insensitive, hence the lowercasing).
pub fn storage_account(subscription: &str, resource_group: &str, name: &str) -> String {
    let readable: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(14)
        .collect();
    let seed = format!("{subscription}/{resource_group}/{name}").to_lowercase();
    format!("st{readable}{}", sha256_hex(&seed, 8))
}

/// `app-package-{app}-{hash7}`: the shape az gives the Flex Consumption deployment container,
/// where `{app}` is the function app name lowercased, runs of hyphens collapsed, cut to 32
/// characters (trailing hyphen trimmed), and `{hash7}` is 7 hex characters of SHA-256 of the
/// lowercased app name (az uses 7 random digits; a hash keeps re-runs on the same container
/// and keeps two long app names that share a prefix apart).
pub fn deployment_container(function_app: &str) -> String {
    let lower = function_app.to_ascii_lowercase();
    let mut collapsed = String::with_capacity(lower.len());
    for c in lower.chars() {
        if !(c == '-' && collapsed.ends_with('-')) {
            collapsed.push(c);
        }
    }
    let cut: String = collapsed.chars().take(32).collect();
    let cut = cut.trim_matches('-');
    format!("app-package-{cut}-{}", sha256_hex(&lower, 7))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::rules;

    const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

    #[test]
    fn suffix_names() {
        assert_eq!(resource_group("demo"), "demo-rg");
        assert_eq!(apim("demo"), "demo-apim");
        assert_eq!(function_app("demo"), "demo-func");
        assert_eq!(plan("demo"), "demo-plan");
    }

    #[test]
    fn storage_account_is_stable_valid_and_depends_on_all_three_inputs() {
        let a = storage_account(SUB, "demo-rg", "demo");
        assert_eq!(a, storage_account(SUB, "demo-rg", "demo"));
        assert_eq!(a, storage_account(&SUB.to_uppercase(), "DEMO-rg", "Demo"));
        assert!(a.starts_with("stdemo"), "{a}");
        assert_eq!(a.len(), 2 + 4 + 8);
        assert!(rules::storage_account_name(&a).is_ok(), "{a}");
        assert_ne!(a, storage_account(SUB, "other-rg", "demo"));
        assert_ne!(
            a,
            storage_account("1b1f6471-1bf0-4dda-aec3-cb9272f09590", "demo-rg", "demo")
        );
        assert_ne!(a, storage_account(SUB, "demo-rg", "demo2"));
    }

    #[test]
    fn storage_account_keeps_only_14_readable_characters() {
        let s = storage_account(SUB, "rg", "My-Very_Long-Project-Name-2025");
        assert_eq!(&s[..16], "stmyverylongproj");
        assert_eq!(s.len(), 24);
        assert!(rules::storage_account_name(&s).is_ok(), "{s}");
        // Nothing readable at all still gives a valid name.
        let s = storage_account(SUB, "rg", "---");
        assert_eq!(s.len(), 10);
        assert!(rules::storage_account_name(&s).is_ok(), "{s}");
    }

    #[test]
    fn deployment_container_is_valid_for_any_valid_app_name() {
        let c = deployment_container("Demo-func");
        assert!(c.starts_with("app-package-demo-func-"), "{c}");
        assert_eq!(c.len(), "app-package-demo-func-".len() + 7);
        assert_eq!(c, deployment_container("demo-func"));
        for app in [
            "ab",
            "a--b",
            &"a".repeat(60),
            &format!("{}-{}", "a".repeat(31), "b".repeat(28)),
        ] {
            assert!(rules::function_app_name(app).is_ok(), "{app}");
            let c = deployment_container(app);
            assert!(rules::container_name(&c).is_ok(), "{app} -> {c}");
        }
        assert_ne!(
            deployment_container(&format!("{}x", "a".repeat(40))),
            deployment_container(&format!("{}y", "a".repeat(40)))
        );
    }
}
