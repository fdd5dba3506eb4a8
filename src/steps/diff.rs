//! Desired versus current: which of the fields apimfn owns differ from what Azure has.
//!
//! Only the fields present in `desired` are compared — everything else on the resource belongs to
//! someone else and is left alone. Objects are compared key by key (keys case-insensitively, as
//! ARM treats them); arrays as a whole, ignoring order (Azure does not keep the order of
//! `allowedAudiences` or `protocols` meaningful); scalars exactly.

use super::change::FieldChange;
use serde_json::Value;

/// The fields of `desired` that `current` does not match, as dotted paths.
pub fn differences(desired: &Value, current: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", desired, Some(current), &mut out);
    out
}

fn walk(path: &str, desired: &Value, current: Option<&Value>, out: &mut Vec<FieldChange>) {
    match desired {
        Value::Object(fields) => {
            for (key, want) in fields {
                let have = current.and_then(|c| get_ci(c, key));
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(&sub, want, have, out);
            }
        }
        want => {
            let same = match current {
                Some(have) => same_value(want, have),
                None => false,
            };
            if !same {
                out.push(FieldChange {
                    path: path.to_string(),
                    old: current.filter(|v| !v.is_null()).cloned(),
                    new: want.clone(),
                });
            }
        }
    }
}

fn same_value(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| same_value(x, y)))
        }
        (Value::Object(_), _) => differences(want, have).is_empty(),
        (a, b) => a == b,
    }
}

/// `v[key]`, matching the key case-insensitively.
pub fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Replace the value of every change whose path ends in one of `secret_fields` by a marker, so a
/// plan never shows a key.
pub fn redact_fields(changes: &mut [FieldChange], secret_fields: &[&str]) {
    for c in changes {
        if secret_fields.iter().any(|s| c.path.ends_with(s)) {
            if c.old.is_some() {
                c.old = Some(Value::String("(secret)".into()));
            }
            c.new = Value::String("(secret)".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_owned_fields_are_compared() {
        let desired = json!({"sku": {"name": "Developer", "capacity": 1}, "properties": {"publisherName": "X"}});
        let current = json!({"sku": {"name": "Developer", "capacity": 1}, "properties": {"publisherName": "X", "gatewayUrl": "https://a"}, "tags": {"t": 1}});
        assert!(differences(&desired, &current).is_empty());
    }

    #[test]
    fn a_changed_and_a_missing_field_are_reported_with_their_paths() {
        let desired = json!({"sku": {"name": "Developer"}, "identity": {"type": "SystemAssigned"}});
        let current = json!({"sku": {"name": "Basic"}});
        let d = differences(&desired, &current);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].path, "sku.name");
        assert_eq!(d[0].old, Some(json!("Basic")));
        assert_eq!(d[1].path, "identity.type");
        assert_eq!(d[1].old, None);
    }

    #[test]
    fn arrays_compare_without_order_and_keys_without_case() {
        let desired = json!({"properties": {"allowedAudiences": ["a", "b"]}});
        let current = json!({"Properties": {"allowedAudiences": ["b", "a"]}});
        assert!(differences(&desired, &current).is_empty());
        let current = json!({"properties": {"allowedAudiences": ["a"]}});
        assert_eq!(differences(&desired, &current).len(), 1);
    }

    #[test]
    fn secrets_are_replaced_in_reported_changes() {
        let mut d = differences(&json!({"properties": {"value": "s3cret"}}), &json!({}));
        redact_fields(&mut d, &["value"]);
        assert_eq!(d[0].new, json!("(secret)"));
    }
}
