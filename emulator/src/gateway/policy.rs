//! The policy elements the emulated gateway executes, in ONE table shared by the PUT-time check
//! (`arm/apim/policy.rs` → [`check`]) and the engine (`gateway.rs`), so that a policy the engine
//! cannot run is refused when it is written instead of being silently ignored.
//!
//! Sources: the APIM policy reference (learn.microsoft.com/azure/api-management/api-management-
//! policies; per-policy pages `set-backend-service-policy`, `authentication-managed-identity-
//! policy`, `set-header-policy`, `rewrite-uri-policy`, `return-response-policy`, `set-variable-
//! policy`, `forward-request-policy`, "Policy sections" for where each may appear) and "Policy
//! expressions" (`@(…)` single statements, `@{…}` multi-statement bodies).
//!
//! Expressions are C#; the emulator evaluates only the trivial ones: a `+` concatenation of string
//! literals and `context.Variables["name"]` (optionally cast `(string)`, or
//! `context.Variables.GetValueOrDefault<string>("name")`). Any other expression is refused at PUT
//! time, naming it.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// Every section.
const ALL: &[&str] = &["inbound", "backend", "outbound", "on-error"];

/// The statements the engine executes and the sections each may appear in (policy reference,
/// "Policy sections" / each policy's "Usage").
pub const SUPPORTED: &[(&str, &[&str])] = &[
    ("base", ALL),
    ("forward-request", &["backend"]),
    ("set-backend-service", &["inbound", "backend"]),
    ("authentication-managed-identity", &["inbound"]),
    ("set-header", ALL),
    ("rewrite-uri", &["inbound"]),
    ("return-response", ALL),
    ("set-variable", ALL),
];

/// Child elements the supported statements take.
const INNER: &[(&str, &[&str])] = &[
    ("set-header", &["value"]),
    ("return-response", &["set-status", "set-header", "set-body"]),
];

/// An element of a policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// Concatenated text content (unescaped).
    pub text: String,
}

impl Node {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn new(name: &str) -> Node {
        Node {
            name: name.to_string(),
            attrs: Vec::new(),
            children: Vec::new(),
            text: String::new(),
        }
    }

    /// The implicit global backend section: forward the request.
    pub fn forward_request() -> Node {
        Node::new("forward-request")
    }
}

fn start_node(e: &quick_xml::events::BytesStart<'_>) -> Result<Node, String> {
    let mut node = Node::new(&String::from_utf8_lossy(e.name().as_ref()));
    for a in e.attributes().with_checks(true) {
        let a = a.map_err(|err| err.to_string())?;
        let v = a.unescape_value().map_err(|err| err.to_string())?;
        node.attrs.push((
            String::from_utf8_lossy(a.key.as_ref()).to_string(),
            v.to_string(),
        ));
    }
    Ok(node)
}

/// Parse a policy document into its `<policies>` element. Structure errors are reported by
/// `arm/apim/policy.rs::validate` first; this only needs to build the tree.
pub fn parse(xml: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => stack.push(start_node(&e)?),
            Event::Empty(e) => {
                let node = start_node(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced document")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.unescape().map_err(|e| e.to_string())?);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => return Err("Root element is missing.".into()),
            _ => {}
        }
    }
}

fn supported_names() -> String {
    SUPPORTED
        .iter()
        .filter(|(n, _)| *n != "base")
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Ok` when the engine can execute every element of the document; else a message naming the
/// first element (or expression) the emulator does not model. Expects a structurally valid document.
pub fn check(xml: &str) -> Result<(), String> {
    let root = parse(xml)?;
    for section in &root.children {
        for stmt in &section.children {
            let Some((_, sections)) = SUPPORTED.iter().find(|(n, _)| *n == stmt.name) else {
                return Err(format!(
                    "The emulator does not model the policy element '{}' (in section '{}'). Supported elements: {}.",
                    stmt.name,
                    section.name,
                    supported_names()
                ));
            };
            if !sections.contains(&section.name.as_str()) {
                return Err(format!(
                    "Policy '{}' is not allowed in section '{}'.",
                    stmt.name, section.name
                ));
            }
            check_inner(stmt)?;
        }
    }
    Ok(())
}

fn check_inner(node: &Node) -> Result<(), String> {
    for (_, v) in &node.attrs {
        check_value(v)?;
    }
    check_value(&node.text)?;
    let allowed: &[&str] = INNER
        .iter()
        .find(|(n, _)| *n == node.name)
        .map(|(_, c)| *c)
        .unwrap_or(&[]);
    for child in &node.children {
        // `set-header` inside `return-response` takes `value` children.
        let ok = allowed.contains(&child.name.as_str())
            || (node.name == "set-header" && child.name == "value");
        if !ok {
            return Err(format!(
                "The emulator does not model the element '{}' inside '{}'.",
                child.name, node.name
            ));
        }
        check_inner(child)?;
    }
    Ok(())
}

fn check_value(v: &str) -> Result<(), String> {
    let t = v.trim();
    if t.starts_with("@(") || t.starts_with("@{") {
        parse_expression(t).map(|_| ())?;
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Part {
    Lit(String),
    Var(String),
}

fn parse_expression(t: &str) -> Result<Vec<Part>, String> {
    let refuse = || {
        format!(
            "The emulator does not evaluate the policy expression '{t}': only string literals and context.Variables[\"name\"] joined with '+' are modelled."
        )
    };
    let inner = t
        .strip_prefix("@(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(refuse)?;
    // Split at top-level '+' (outside string literals).
    let mut terms = Vec::new();
    let mut cur = String::new();
    let mut in_str = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            cur.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            cur.push(c);
        } else if c == '+' {
            terms.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    terms.push(cur);
    let mut parts = Vec::new();
    for term in terms {
        let term = term.trim();
        let term = term.strip_prefix("(string)").unwrap_or(term).trim();
        if let Some(lit) = term.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            if lit.contains('"') && !lit.contains("\\\"") {
                return Err(refuse());
            }
            parts.push(Part::Lit(lit.replace("\\\"", "\"").replace("\\\\", "\\")));
            continue;
        }
        let var = term
            .strip_prefix("context.Variables[\"")
            .and_then(|s| s.strip_suffix("\"]"))
            .or_else(|| {
                term.strip_prefix("context.Variables.GetValueOrDefault<string>(\"")
                    .and_then(|s| s.strip_suffix("\")"))
            });
        match var {
            Some(name) if !name.contains('"') => parts.push(Part::Var(name.to_string())),
            _ => return Err(refuse()),
        }
    }
    Ok(parts)
}

/// The value of an attribute or text: a trivial expression evaluated against the variables, or
/// the text itself. A missing variable is an error, as `context.Variables["x"]` throws.
pub fn evaluate(v: &str, vars: &Map<String, Value>) -> Result<String, String> {
    let t = v.trim();
    if !(t.starts_with("@(") || t.starts_with("@{")) {
        return Ok(v.to_string());
    }
    let mut out = String::new();
    for part in parse_expression(t)? {
        match part {
            Part::Lit(s) => out.push_str(&s),
            Part::Var(name) => match vars.get(&name) {
                Some(Value::String(s)) => out.push_str(s),
                Some(other) => out.push_str(&other.to_string()),
                None => {
                    return Err(format!(
                        "The given key '{name}' was not present in the dictionary."
                    ));
                }
            },
        }
    }
    Ok(out)
}

/// One section of a scope's document with `<base/>` replaced by the parent scope's section. A
/// scope without a document inherits everything (as APIM's default `<base />` documents do); a
/// document without the section has an empty section.
pub fn effective(doc: Option<&Node>, section: &str, parent: Vec<Node>) -> Vec<Node> {
    let Some(doc) = doc else { return parent };
    let Some(sec) = doc.children.iter().find(|c| c.name == section) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for stmt in &sec.children {
        if stmt.name == "base" {
            out.extend(parent.iter().cloned());
        } else {
            out.push(stmt.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn supported_documents_pass_and_others_are_refused_by_name() {
        let good = "<policies><inbound><base /><set-backend-service id=\"x\" backend-id=\"fn\" /><authentication-managed-identity resource=\"api://x\" /><set-header name=\"a\" exists-action=\"override\"><value>b</value></set-header></inbound><backend><forward-request /></backend><outbound><return-response><set-status code=\"200\" reason=\"OK\" /><set-header name=\"x\"><value>y</value></set-header><set-body>hi</set-body></return-response></outbound></policies>";
        assert_eq!(check(good), Ok(()));
        let bad = check("<policies><inbound><rate-limit calls=\"5\" renewal-period=\"60\" /></inbound></policies>")
            .expect_err("rate-limit");
        assert!(bad.contains("'rate-limit'"), "{bad}");
        assert!(bad.contains("does not model"), "{bad}");
        let misplaced = check("<policies><outbound><forward-request /></outbound></policies>")
            .expect_err("misplaced");
        assert!(misplaced.contains("not allowed"), "{misplaced}");
        let expr = check("<policies><inbound><set-variable name=\"v\" value=\"@(context.Request.Url.Path)\" /></inbound></policies>")
            .expect_err("expression");
        assert!(expr.contains("context.Request.Url.Path"), "{expr}");
        assert_eq!(
            check(
                "<policies><inbound><set-header name=\"Authorization\" exists-action=\"override\"><value>@(\"Bearer \" + (string)context.Variables[\"t\"])</value></set-header></inbound></policies>"
            ),
            Ok(())
        );
    }

    #[test]
    fn trivial_expressions_evaluate() {
        let vars = json!({"t": "abc"});
        let vars = vars.as_object().expect("map");
        assert_eq!(
            evaluate("@(\"Bearer \" + (string)context.Variables[\"t\"])", vars),
            Ok("Bearer abc".into())
        );
        assert_eq!(evaluate("plain", vars), Ok("plain".into()));
        assert!(evaluate("@(context.Variables[\"missing\"])", vars).is_err());
        assert!(evaluate("@{ return 1; }", vars).is_err());
    }

    #[test]
    fn base_inherits_the_parent_section() {
        let doc = parse("<policies><inbound><set-variable name=\"a\" value=\"1\" /><base /></inbound><outbound /></policies>").expect("doc");
        let parent = vec![Node::new("set-header")];
        let inbound = effective(Some(&doc), "inbound", parent.clone());
        assert_eq!(inbound.len(), 2);
        assert_eq!(inbound[1].name, "set-header");
        assert!(effective(Some(&doc), "backend", parent.clone()).is_empty());
        assert_eq!(effective(None, "inbound", parent.clone()), parent);
    }
}
