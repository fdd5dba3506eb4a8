//! What a step did (or, in a plan, would do) to one resource.

use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
    None,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::None => "none",
        }
    }
}

/// One field that differs: `old` is `None` when the field is absent today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    pub new: Value,
}

impl FieldChange {
    /// `path: old → new`, with secrets already replaced by the caller.
    pub fn describe(&self) -> String {
        let show = |v: &Value| match v {
            Value::String(s) => format!("\"{s}\""),
            other => other.to_string(),
        };
        match &self.old {
            Some(old) => format!("{}: {} → {}", self.path, show(old), show(&self.new)),
            None => format!("{}: (none) → {}", self.path, show(&self.new)),
        }
    }
}

/// A change to one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The ARM id (or Graph object path) of the resource.
    pub resource: String,
    /// Short kind for text output: `resource group`, `APIM service`, …
    #[serde(skip)]
    pub kind: &'static str,
    pub action: Action,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

impl Change {
    pub fn new(kind: &'static str, resource: impl Into<String>, action: Action) -> Self {
        Self {
            resource: resource.into(),
            kind,
            action,
            fields: Vec::new(),
        }
    }

    pub fn with_fields(mut self, fields: Vec<FieldChange>) -> Self {
        self.fields = fields;
        self
    }

    /// One line for text output: `create  APIM service  /subscriptions/…`.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{:<7} {:<22} {}",
            self.action.as_str(),
            self.kind,
            self.resource
        );
        for f in &self.fields {
            s.push_str(&format!("\n          {}", f.describe()));
        }
        s
    }
}

/// The changes of a run, in the order they were decided; shared by concurrent steps.
#[derive(Debug, Clone, Default)]
pub struct Changes(Arc<Mutex<Vec<Change>>>);

impl Changes {
    /// Record a change; a resource already recorded keeps one entry (the first that is not
    /// `none`, with the fields of both), so steps that read the same resource twice in one run
    /// (the group, the APIM service in `setup`) report it once.
    pub fn record(&self, change: Change) {
        if let Ok(mut v) = self.0.lock() {
            match v
                .iter_mut()
                .find(|c| c.resource.eq_ignore_ascii_case(&change.resource))
            {
                Some(seen) => {
                    if seen.action == Action::None {
                        seen.action = change.action;
                    }
                    seen.fields.extend(change.fields);
                }
                None => v.push(change),
            }
        }
    }

    pub fn all(&self) -> Vec<Change> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// True when any recorded change is not `none`.
    pub fn any_pending(&self) -> bool {
        self.all().iter().any(|c| c.action != Action::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_serialises_as_the_contract_says_and_reads_as_one_line_per_field() {
        let c =
            Change::new("APIM service", "/subscriptions/s/x", Action::Update).with_fields(vec![
                FieldChange {
                    path: "sku.name".into(),
                    old: Some(json!("Basic")),
                    new: json!("Developer"),
                },
            ]);
        let v = serde_json::to_value(&c).expect("json");
        assert_eq!(v["action"], "update");
        assert_eq!(v["resource"], "/subscriptions/s/x");
        assert_eq!(v["fields"][0]["path"], "sku.name");
        assert!(
            c.line().contains("sku.name: \"Basic\" → \"Developer\""),
            "{}",
            c.line()
        );
        let none = Change::new("APIM service", "/x", Action::None);
        assert!(
            serde_json::to_value(&none)
                .expect("json")
                .get("fields")
                .is_none()
        );
    }
}
