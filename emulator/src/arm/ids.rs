//! ARM request paths: `/subscriptions/{sub}[/resourceGroups/{rg}][/providers/{ns}/{type}/{name}…]`.
//!
//! The provider is the namespace after the LAST `providers` segment, so an extension resource such
//! as `{storage account id}/providers/Microsoft.Authorization/roleAssignments/{name}` belongs to
//! Microsoft.Authorization with the storage account as its scope.

/// A parsed ARM path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmPath {
    /// The path as sent, without the query.
    pub raw: String,
    /// `None` for tenant-level paths (`/providers/Microsoft.Web/…`).
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    /// The provider namespace, e.g. `Microsoft.ApiManagement`; `None` for subscriptions and
    /// resource groups themselves.
    pub namespace: Option<String>,
    /// Everything before the last `/providers/{ns}` (the scope of an extension resource), or the
    /// whole path when there is no provider.
    pub scope: String,
    /// Segments after the namespace: `type, name, type, name, …` and possibly a trailing action.
    pub rest: Vec<String>,
}

impl ArmPath {
    pub fn parse(path: &str) -> Option<ArmPath> {
        let trimmed = path.trim_end_matches('/');
        let segs: Vec<&str> = trimmed.split('/').skip(1).collect();
        if segs.is_empty() || segs.iter().any(|s| s.is_empty()) {
            return None;
        }
        let mut subscription = None;
        let mut resource_group = None;
        if segs.len() >= 2 && segs[0].eq_ignore_ascii_case("subscriptions") {
            subscription = Some(segs[1].to_string());
            if segs.len() >= 4 && segs[2].eq_ignore_ascii_case("resourcegroups") {
                resource_group = Some(segs[3].to_string());
            }
        }
        let last_providers = segs
            .iter()
            .rposition(|s| s.eq_ignore_ascii_case("providers"));
        let (namespace, scope, rest) = match last_providers {
            Some(i) if i + 1 < segs.len() => (
                Some(segs[i + 1].to_string()),
                format!("/{}", segs[..i].join("/")),
                segs[i + 2..].iter().map(|s| s.to_string()).collect(),
            ),
            _ => (None, trimmed.to_string(), Vec::new()),
        };
        Some(ArmPath {
            raw: trimmed.to_string(),
            subscription,
            resource_group,
            namespace,
            scope,
            rest,
        })
    }

    /// The namespace, compared case-insensitively.
    pub fn is_namespace(&self, ns: &str) -> bool {
        self.namespace
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(ns))
    }

    /// The resource types in `rest`, joined by `/`, lowercased: `service/apis/operations`.
    /// With an odd number of segments the last one is an action and is not included.
    pub fn type_path(&self) -> String {
        (0..self.rest.len() / 2)
            .map(|i| self.rest[2 * i].to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The trailing segment when the count is odd: an action (`listKeys`) or, for a GET, a child
    /// collection (`…/service/a/apis`).
    pub fn action(&self) -> Option<&str> {
        (self.rest.len() % 2 == 1).then(|| self.rest.last().map(String::as_str))?
    }

    /// The name at resource level `level` (0 = the top-level resource).
    pub fn name(&self, level: usize) -> Option<&str> {
        self.rest.get(2 * level + 1).map(String::as_str)
    }

    /// The canonical id (no action), used as the store key after lowercasing.
    pub fn resource_id(&self) -> String {
        match (&self.namespace, self.action()) {
            (Some(_), Some(_)) => {
                let cut = self.raw.rfind('/').unwrap_or(self.raw.len());
                self.raw[..cut].to_string()
            }
            _ => self.raw.clone(),
        }
    }
}

/// The key of a resource id in the world's store.
pub fn key(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_resources_and_actions() {
        let p = ArmPath::parse("/subscriptions/s/resourceGroups/g/providers/Microsoft.ApiManagement/service/a/apis/x/operations/get-y").expect("parse");
        assert_eq!(p.subscription.as_deref(), Some("s"));
        assert_eq!(p.resource_group.as_deref(), Some("g"));
        assert!(p.is_namespace("microsoft.apimanagement"));
        assert_eq!(p.type_path(), "service/apis/operations");
        assert_eq!(p.name(0), Some("a"));
        assert_eq!(p.name(2), Some("get-y"));
        assert_eq!(p.action(), None);

        let k = ArmPath::parse("/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/st/listKeys").expect("parse");
        assert_eq!(k.type_path(), "storageaccounts");
        assert_eq!(k.action(), Some("listKeys"));
        assert!(k.resource_id().ends_with("/storageAccounts/st"));
    }

    #[test]
    fn extension_resources_take_the_last_provider() {
        let p = ArmPath::parse("/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/st/providers/Microsoft.Authorization/roleAssignments/r1").expect("parse");
        assert!(p.is_namespace("Microsoft.Authorization"));
        assert_eq!(
            p.scope,
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/st"
        );
        assert_eq!(p.type_path(), "roleassignments");
        assert_eq!(p.name(0), Some("r1"));
    }

    #[test]
    fn groups_subscriptions_and_tenant_paths() {
        let g = ArmPath::parse("/subscriptions/s/resourcegroups/g").expect("parse");
        assert_eq!(g.namespace, None);
        assert_eq!(g.resource_group.as_deref(), Some("g"));
        let t = ArmPath::parse("/providers/Microsoft.Web/locations/japaneast/functionAppStacks")
            .expect("parse");
        assert_eq!(t.subscription, None);
        assert_eq!(t.type_path(), "locations");
        assert_eq!(t.action(), Some("functionAppStacks"));
        assert!(ArmPath::parse("/").is_none());
    }
}
