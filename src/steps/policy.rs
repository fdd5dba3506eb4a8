//! Editing the API policy without touching what the user added.
//!
//! apimfn owns exactly two elements, both direct children of `<inbound>`:
//! - `<set-backend-service id="apim-generated-policy" backend-id="{app}" />` (`api import`; the
//!   `id` is the one the portal's Function App import writes, arm-reference §6);
//! - `<authentication-managed-identity resource="api://{appId}" />` (`auth configure`, §8): the
//!   first one that uses the system-assigned identity and sets the `Authorization` header, i.e.
//!   without `client-id` and without `output-token-variable-name` (those are someone else's).
//!
//! Everything else — other elements, comments, attributes on our elements that apimfn does not
//! set, whitespace, policy expressions — is kept byte for byte: the document is never re-serialised;
//! only our start tags are replaced or inserted, as splices of the original text.
//!
//! Whether a write is needed is decided semantically (parsed attribute values, entities
//! resolved), never by comparing text: APIM re-formats the XML it returns.
//!
//! Policy expressions (`@(…)`, `@{…}`) may contain quotes and `<` that plain XML rejects (in
//! `rawxml` APIM reads them before the XML). They are blanked — replaced by the same number of
//! bytes — before parsing, so every offset found in the blanked text is valid in the original.

use super::FieldChange;
use quick_xml::Reader;
use quick_xml::escape::{escape, unescape};
use quick_xml::events::Event;
use serde_json::Value;

/// The `id` the portal's import gives its `set-backend-service`.
pub const BACKEND_POLICY_ID: &str = "apim-generated-policy";

/// One element apimfn owns inside `<inbound>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Owned {
    pub name: &'static str,
    /// The attributes apimfn sets, in the order they are written.
    pub attrs: Vec<(&'static str, String)>,
}

impl Owned {
    /// `<set-backend-service id="apim-generated-policy" backend-id="{backend}" />`.
    pub fn backend(backend_id: &str) -> Owned {
        Owned {
            name: "set-backend-service",
            attrs: vec![
                ("id", BACKEND_POLICY_ID.to_string()),
                ("backend-id", backend_id.to_string()),
            ],
        }
    }

    /// `<authentication-managed-identity resource="{resource}" />`.
    pub fn managed_identity(resource: &str) -> Owned {
        Owned {
            name: "authentication-managed-identity",
            attrs: vec![("resource", resource.to_string())],
        }
    }

    fn render(&self) -> String {
        let mut s = format!("<{}", self.name);
        for (k, v) in &self.attrs {
            s.push_str(&format!(" {k}=\"{}\"", escape(v.as_str())));
        }
        s.push_str(" />");
        s
    }

    /// Where it goes among its siblings: after `<base />` (0) and after owned elements of a
    /// lower rank, so the backend comes before the identity whatever order the steps ran in.
    fn rank(&self) -> u8 {
        rank_of(self.name)
    }
}

fn rank_of(name: &str) -> u8 {
    match name {
        "base" => 0,
        "set-backend-service" => 1,
        "authentication-managed-identity" => 2,
        _ => u8::MAX,
    }
}

/// The document with nothing but `<base />` in each section and our elements in `<inbound>`.
pub fn default_document(wanted: &[Owned]) -> String {
    let mut sorted: Vec<&Owned> = wanted.iter().collect();
    sorted.sort_by_key(|o| o.rank());
    let ours: String = sorted.iter().map(|o| o.render()).collect();
    format!(
        "<policies><inbound><base />{ours}</inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
    )
}

/// What to do with the policy.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyDecision {
    /// No policy yet (404 or empty): PUT this document.
    Create {
        xml: String,
    },
    /// PUT this document (the current one with our elements added or corrected).
    Update {
        xml: String,
        fields: Vec<FieldChange>,
    },
    Nothing,
}

/// Decide from the current document (`None`: no policy) what to write so that every element in
/// `wanted` is present with its attributes. `Err` when the current document cannot be read.
pub fn decide(current: Option<&str>, wanted: &[Owned]) -> Result<PolicyDecision, String> {
    let Some(text) = current.filter(|t| !t.trim().is_empty()) else {
        return Ok(PolicyDecision::Create {
            xml: default_document(wanted),
        });
    };
    let doc = parse(text)?;
    let mut edits: Vec<Edit> = Vec::new();
    let mut fields = Vec::new();
    // New elements go in one group per insertion point, in rank order.
    let mut sorted: Vec<&Owned> = wanted.iter().collect();
    sorted.sort_by_key(|o| o.rank());
    for want in sorted {
        let path = format!("policy.inbound.{}", want.name);
        match doc.inbound.as_ref().and_then(|i| find_ours(i, want.name)) {
            Some(child) => {
                let mut differs = false;
                for (k, v) in &want.attrs {
                    if child.attr_value(text, k).as_deref() != Some(v.as_str()) {
                        differs = true;
                    }
                }
                if differs {
                    let new_tag = child.rewrite_start_tag(text, want);
                    fields.push(FieldChange {
                        path,
                        old: Some(Value::String(text[child.start..child.tag_end].to_string())),
                        new: Value::String(new_tag.clone()),
                    });
                    edits.push(Edit {
                        start: child.start,
                        end: child.tag_end,
                        text: new_tag,
                    });
                }
            }
            None => {
                fields.push(FieldChange {
                    path,
                    old: None,
                    new: Value::String(want.render()),
                });
                edits.push(insertion(text, &doc, want));
            }
        }
    }
    if edits.is_empty() {
        return Ok(PolicyDecision::Nothing);
    }
    Ok(PolicyDecision::Update {
        xml: apply(text, edits),
        fields,
    })
}

// ---- parsing ------------------------------------------------------------------------------

#[derive(Debug)]
struct Doc {
    /// End of the `<policies …>` start tag (insertion point for a missing `<inbound>`), or the
    /// span of a self-closing `<policies />`.
    root_tag: (usize, usize),
    root_self_closing: bool,
    inbound: Option<Inbound>,
}

#[derive(Debug)]
struct Inbound {
    /// The `<inbound …>` start tag (the whole element when self-closing).
    tag: (usize, usize),
    self_closing: bool,
    children: Vec<Child>,
}

#[derive(Debug)]
struct Child {
    name: String,
    /// Offset of `<`.
    start: usize,
    /// End of the start tag (for a self-closing element, the end of the element).
    tag_end: usize,
    attrs: Vec<Attr>,
    /// Offset just after the element (after its end tag).
    end: usize,
    /// `id="apim-generated-policy"` (entities resolved).
    id_matches: bool,
}

#[derive(Debug, Clone)]
struct Attr {
    name: String,
    /// `name="value"` as a whole.
    span: (usize, usize),
    /// The value between the quotes, still escaped.
    value: (usize, usize),
}

impl Child {
    fn attr_value(&self, text: &str, name: &str) -> Option<String> {
        let a = self.attrs.iter().find(|a| a.name == name)?;
        let raw = &text[a.value.0..a.value.1];
        Some(
            unescape(raw)
                .map(|c| c.into_owned())
                .unwrap_or(raw.to_string()),
        )
    }

    fn has_attr(&self, name: &str) -> bool {
        self.attrs.iter().any(|a| a.name == name)
    }

    /// The start tag with our attributes set, every other attribute and the tag's ending kept.
    fn rewrite_start_tag(&self, text: &str, want: &Owned) -> String {
        let mut s = format!("<{}", self.name);
        for a in &self.attrs {
            match want.attrs.iter().find(|(k, _)| *k == a.name) {
                Some((k, v)) => s.push_str(&format!(" {k}=\"{}\"", escape(v.as_str()))),
                None => {
                    s.push(' ');
                    s.push_str(&text[a.span.0..a.span.1]);
                }
            }
        }
        for (k, v) in &want.attrs {
            if !self.has_attr(k) {
                s.push_str(&format!(" {k}=\"{}\"", escape(v.as_str())));
            }
        }
        // Keep ` />`, `/>` or `>` as written.
        let after = self
            .attrs
            .last()
            .map(|a| a.span.1)
            .unwrap_or(self.start + 1 + self.name.len());
        let tail = text[after..self.tag_end].trim_start();
        if tail.starts_with('/') {
            s.push_str(" />");
        } else {
            s.push('>');
        }
        s
    }
}

/// Ours among `<inbound>`'s direct children.
fn find_ours<'a>(inbound: &'a Inbound, name: &str) -> Option<&'a Child> {
    let named = |c: &&Child| c.name == name;
    match name {
        "set-backend-service" => inbound.children.iter().filter(named).find(|c| c.id_matches),
        "authentication-managed-identity" => inbound
            .children
            .iter()
            .filter(named)
            .find(|c| !c.has_attr("client-id") && !c.has_attr("output-token-variable-name")),
        _ => inbound.children.iter().find(named),
    }
}

/// Replace every policy expression by `@` and `x`s of the same byte length.
fn blank_expressions(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'@' && matches!(b.get(i + 1), Some(b'(') | Some(b'{')) {
            let open = b[i + 1];
            let close = if open == b'(' { b')' } else { b'}' };
            let mut depth = 0usize;
            let mut j = i + 1;
            let mut in_str: Option<u8> = None;
            let mut closed = false;
            while j < b.len() {
                let d = b[j];
                if let Some(q) = in_str {
                    if d == b'\\' {
                        j += 1;
                    } else if d == q {
                        in_str = None;
                    }
                } else if d == b'"' || d == b'\'' {
                    in_str = Some(d);
                } else if d == open {
                    depth += 1;
                } else if d == close {
                    depth -= 1;
                    if depth == 0 {
                        closed = true;
                        break;
                    }
                }
                j += 1;
            }
            if !closed {
                // Unbalanced: leave it for the XML parser to judge.
                i += 1;
                continue;
            }
            for x in out.iter_mut().take(j + 1).skip(i + 1) {
                *x = b'x';
            }
            i = j + 1;
            continue;
        }
        i += 1;
    }
    // Only ASCII bytes replaced whole runs that began and ended on ASCII delimiters, but a
    // multi-byte character inside an expression was overwritten byte by byte with ASCII: still
    // valid UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

fn parse(original: &str) -> Result<Doc, String> {
    let text = blank_expressions(original);
    let mut reader = Reader::from_str(&text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut root: Option<((usize, usize), bool)> = None;
    let mut inbound: Option<Inbound> = None;
    let mut in_inbound = false;
    // A direct child of <inbound> whose end tag is still to come.
    let mut open_child: Option<Child> = None;
    loop {
        let start = reader.buffer_position() as usize;
        let ev = reader
            .read_event()
            .map_err(|e| format!("{e} (at byte {})", reader.error_position()))?;
        let end = reader.buffer_position() as usize;
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let self_closing = text.as_bytes().get(end.wrapping_sub(2)) == Some(&b'/');
                let name = String::from_utf8_lossy(e.name().as_ref()).to_string();
                match depth {
                    0 => {
                        if name != "policies" {
                            return Err(format!("the root element is '{name}', not 'policies'"));
                        }
                        root = Some(((start, end), self_closing));
                    }
                    1 if name == "inbound" => {
                        inbound = Some(Inbound {
                            tag: (start, end),
                            self_closing,
                            children: Vec::new(),
                        });
                        in_inbound = !self_closing;
                    }
                    2 if in_inbound => {
                        let attrs = attributes(&text, start, end)?;
                        let id_matches = attrs.iter().any(|a| {
                            a.name == "id"
                                && unescape(&original[a.value.0..a.value.1])
                                    .is_ok_and(|v| v == BACKEND_POLICY_ID)
                        });
                        let child = Child {
                            name,
                            start,
                            tag_end: end,
                            attrs,
                            end,
                            id_matches,
                        };
                        if self_closing {
                            if let Some(i) = inbound.as_mut() {
                                i.children.push(child);
                            }
                        } else {
                            open_child = Some(child);
                        }
                    }
                    _ => {}
                }
                if !self_closing {
                    depth += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                if depth == 2
                    && in_inbound
                    && let Some(mut c) = open_child.take()
                {
                    c.end = end;
                    if let Some(i) = inbound.as_mut() {
                        i.children.push(c);
                    }
                }
                if depth == 1 && e.name().as_ref() == b"inbound" {
                    in_inbound = false;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let Some((root_tag, root_self_closing)) = root else {
        return Err("the document has no root element".into());
    };
    if depth != 0 {
        return Err("the document ends before its elements are closed".into());
    }
    Ok(Doc {
        root_tag,
        root_self_closing,
        inbound,
    })
}

/// The attributes of the start tag at `text[start..end]` (blanked text), with their offsets.
fn attributes(text: &str, start: usize, end: usize) -> Result<Vec<Attr>, String> {
    let b = text.as_bytes();
    let mut i = start + 1;
    while i < end && !b[i].is_ascii_whitespace() && b[i] != b'/' && b[i] != b'>' {
        i += 1;
    }
    let mut out = Vec::new();
    loop {
        while i < end && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= end || b[i] == b'/' || b[i] == b'>' {
            return Ok(out);
        }
        let name_start = i;
        while i < end && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let name = text[name_start..i].to_string();
        while i < end && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= end || b[i] != b'=' {
            return Err(format!("attribute '{name}' has no value"));
        }
        i += 1;
        while i < end && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let quote = *b.get(i).ok_or("attribute value missing")?;
        if quote != b'"' && quote != b'\'' {
            return Err(format!("attribute '{name}' value is not quoted"));
        }
        let value_start = i + 1;
        let mut j = value_start;
        while j < end && b[j] != quote {
            j += 1;
        }
        if j >= end {
            return Err(format!("attribute '{name}' value is not closed"));
        }
        out.push(Attr {
            name,
            span: (name_start, j + 1),
            value: (value_start, j),
        });
        i = j + 1;
    }
}

// ---- editing ------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// Where a missing element goes, as an edit.
fn insertion(text: &str, doc: &Doc, want: &Owned) -> Edit {
    let element = want.render();
    let Some(inbound) = &doc.inbound else {
        // No <inbound> section: add one holding only our element (no <base />: a document
        // without the section did not inherit the parent's inbound, and adding one would change
        // what runs).
        if doc.root_self_closing {
            return Edit {
                start: doc.root_tag.0,
                end: doc.root_tag.1,
                text: format!("<policies><inbound>{element}</inbound></policies>"),
            };
        }
        return Edit {
            start: doc.root_tag.1,
            end: doc.root_tag.1,
            text: format!("<inbound>{element}</inbound>"),
        };
    };
    if inbound.self_closing {
        return Edit {
            start: inbound.tag.0,
            end: inbound.tag.1,
            text: format!("<inbound>{element}</inbound>"),
        };
    }
    // After the last sibling that ranks before us (base, then our backend), else first.
    let anchor = inbound
        .children
        .iter()
        .filter(|c| {
            rank_of(&c.name) < want.rank() && (c.name != "set-backend-service" || c.id_matches)
        })
        .map(|c| c.end)
        .max();
    let (at, ws_from) = match anchor {
        Some(end) => {
            let ws_start = inbound
                .children
                .iter()
                .find(|c| c.end == end)
                .map(|c| c.start)
                .unwrap_or(end);
            (end, ws_start)
        }
        None => (inbound.tag.1, inbound.tag.1),
    };
    // Indent like the element we follow (or the first child) when the document is indented.
    let indent = match anchor {
        Some(_) => line_indent(text, ws_from),
        None => inbound
            .children
            .first()
            .and_then(|c| line_indent(text, c.start)),
    };
    let text = match indent {
        Some(ws) => format!("\n{ws}{element}"),
        None => element,
    };
    Edit {
        start: at,
        end: at,
        text,
    }
}

/// The whitespace between the previous newline and `pos`, when `pos` starts its own line.
fn line_indent(text: &str, pos: usize) -> Option<String> {
    let before = &text[..pos];
    let nl = before.rfind('\n')?;
    let ws = &before[nl + 1..];
    ws.chars()
        .all(|c| c == ' ' || c == '\t')
        .then(|| ws.to_string())
}

/// Apply splices (inserts at the same point keep their order).
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| e.start);
    let mut out = String::with_capacity(text.len() + 200);
    let mut pos = 0;
    for e in edits {
        if e.start < pos {
            continue; // overlapping edits cannot happen; be safe anyway
        }
        out.push_str(&text[pos..e.start]);
        out.push_str(&e.text);
        pos = e.end;
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend() -> Owned {
        Owned::backend("fn1")
    }

    fn mi() -> Owned {
        Owned::managed_identity("api://0000")
    }

    fn xml(d: PolicyDecision) -> String {
        match d {
            PolicyDecision::Create { xml } | PolicyDecision::Update { xml, .. } => xml,
            PolicyDecision::Nothing => panic!("expected a write"),
        }
    }

    #[test]
    fn no_policy_gives_the_full_default_document() {
        let d = decide(None, &[backend()]).expect("ok");
        assert_eq!(
            d,
            PolicyDecision::Create {
                xml: "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn1\" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>".into()
            }
        );
        let d = decide(Some("  \n"), &[mi(), backend()]).expect("ok");
        assert_eq!(
            xml(d),
            "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn1\" /><authentication-managed-identity resource=\"api://0000\" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>"
        );
    }

    #[test]
    fn a_right_document_needs_nothing_whatever_its_formatting() {
        // As APIM returns it: re-indented with tabs, attributes in another order, entities.
        let current = "<policies>\r\n\t<inbound>\r\n\t\t<base />\r\n\t\t<set-backend-service backend-id=\"fn1\" id='apim-generated-policy' />\r\n\t\t<authentication-managed-identity resource=\"api:&#x2F;/0000\"/>\r\n\t</inbound>\r\n\t<backend>\r\n\t\t<base />\r\n\t</backend>\r\n</policies>";
        assert_eq!(
            decide(Some(current), &[backend(), mi()]).expect("ok"),
            PolicyDecision::Nothing
        );
    }

    #[test]
    fn user_elements_comments_and_expressions_are_kept_byte_for_byte() {
        let current = "<policies>\n  <inbound>\n    <base />\n    <!-- mine -->\n    <set-header name=\"x-a\" exists-action=\"override\"><value>@(context.Request.Headers.GetValueOrDefault(\"a\",\"<b>\"))</value></set-header>\n    <rate-limit calls=\"5\" renewal-period=\"60\" />\n  </inbound>\n  <backend><base /></backend>\n  <outbound><base /></outbound>\n</policies>";
        let out = xml(decide(Some(current), &[backend()]).expect("ok"));
        assert_eq!(
            out,
            current.replace(
                "<base />\n    <!--",
                "<base />\n    <set-backend-service id=\"apim-generated-policy\" backend-id=\"fn1\" />\n    <!--"
            )
        );
        // Adding the identity later goes after our backend element and keeps everything.
        let out2 = xml(decide(Some(&out), &[mi()]).expect("ok"));
        assert!(out2.contains("backend-id=\"fn1\" />\n    <authentication-managed-identity resource=\"api://0000\" />\n    <!-- mine -->"), "{out2}");
        assert!(out2.contains("GetValueOrDefault(\"a\",\"<b>\")"));
        assert_eq!(
            decide(Some(&out2), &[backend(), mi()]).expect("ok"),
            PolicyDecision::Nothing
        );
    }

    #[test]
    fn our_element_is_updated_in_place_keeping_other_attributes() {
        let current = "<policies><inbound><base /><authentication-managed-identity resource=\"api://old\" ignore-error=\"false\"/><set-backend-service id=\"apim-generated-policy\" backend-id=\"other\" /><set-header name=\"a\" exists-action=\"skip\"><value>1</value></set-header></inbound></policies>";
        let d = decide(Some(current), &[backend(), mi()]).expect("ok");
        let PolicyDecision::Update { xml, fields } = d else {
            panic!("expected an update")
        };
        assert_eq!(
            xml,
            "<policies><inbound><base /><authentication-managed-identity resource=\"api://0000\" ignore-error=\"false\" /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn1\" /><set-header name=\"a\" exists-action=\"skip\"><value>1</value></set-header></inbound></policies>"
        );
        let paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "policy.inbound.set-backend-service",
                "policy.inbound.authentication-managed-identity"
            ]
        );
    }

    #[test]
    fn someone_elses_elements_of_the_same_name_are_not_ours() {
        // A user-assigned identity token into a variable, and a backend switch of the user's.
        let current = "<policies><inbound><base /><set-backend-service base-url=\"https://x\" /><authentication-managed-identity resource=\"https://vault.azure.net\" client-id=\"c\" output-token-variable-name=\"t\" /></inbound></policies>";
        let out = xml(decide(Some(current), &[backend(), mi()]).expect("ok"));
        assert_eq!(
            out,
            "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn1\" /><authentication-managed-identity resource=\"api://0000\" /><set-backend-service base-url=\"https://x\" /><authentication-managed-identity resource=\"https://vault.azure.net\" client-id=\"c\" output-token-variable-name=\"t\" /></inbound></policies>"
        );
    }

    #[test]
    fn missing_or_empty_inbound_gets_only_our_element() {
        let out = xml(decide(
            Some("<policies><outbound><base /></outbound></policies>"),
            &[backend()],
        )
        .expect("ok"));
        assert_eq!(
            out,
            "<policies><inbound><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn1\" /></inbound><outbound><base /></outbound></policies>"
        );
        let out = xml(decide(
            Some("<policies><inbound /><backend><base /></backend></policies>"),
            &[backend()],
        )
        .expect("ok"));
        assert_eq!(
            out,
            "<policies><inbound><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn1\" /></inbound><backend><base /></backend></policies>"
        );
        let out = xml(decide(Some("<policies/>"), &[backend()]).expect("ok"));
        assert!(
            out.starts_with("<policies><inbound><set-backend-service"),
            "{out}"
        );
        // No base: our element goes first in the section.
        let out = xml(
            decide(
                Some("<policies><inbound><set-header name=\"a\" exists-action=\"skip\"><value>1</value></set-header></inbound></policies>"),
                &[backend()],
            )
            .expect("ok"),
        );
        assert!(
            out.starts_with("<policies><inbound><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn1\" /><set-header"),
            "{out}"
        );
    }

    #[test]
    fn nested_elements_of_the_same_name_are_not_direct_children() {
        // A set-backend-service inside <choose> belongs to the user; ours is added at the top.
        let current = "<policies><inbound><base /><choose><when condition=\"@(true)\"><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn1\" /></when></choose></inbound></policies>";
        let out = xml(decide(Some(current), &[backend()]).expect("ok"));
        assert!(
            out.starts_with("<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn1\" /><choose>"),
            "{out}"
        );
    }

    #[test]
    fn malformed_documents_are_reported() {
        assert!(decide(Some("<policies><inbound></policies>"), &[backend()]).is_err());
        assert!(decide(Some("<other/>"), &[backend()]).is_err());
    }

    #[test]
    fn expressions_are_blanked_to_the_same_length() {
        let s = "<a b=\"@(x(\"q\") + \"é\")\">@{ return \"<\"; }</a>";
        let blanked = blank_expressions(s);
        assert_eq!(blanked.len(), s.len());
        assert!(!blanked.contains('<') || blanked.matches('<').count() == 2);
        assert!(parse("<policies><inbound><set-variable name=\"v\" value=\"@(context.Variables[&quot;a&quot;] + &quot;<&quot;)\" /></inbound></policies>").is_ok());
    }
}
