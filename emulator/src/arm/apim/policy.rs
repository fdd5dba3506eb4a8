//! Policy documents: well-formed XML with the `<policies>` root and only the `inbound`,
//! `backend`, `outbound` and `on-error` sections, each at most once (policy reference; the
//! example `ApiManagementCreateApiPolicy.json` omits `on-error`, so no section is mandatory).
//!
//! Policy expressions (`@(…)`, `@{…}`) may hold C# with quotes and `<` that plain XML rejects;
//! APIM reads them before the XML, so they are blanked out here before parsing.
//!
//! Error texts follow APIM's detail messages: an XML error ends in "Line L, position P." (devops-
//! resource-kit#202); a structure error reads "Error in element 'x' on line L, column C: …"
//! (vscode-apimanagement#145). The wording after the colon is the emulator's.

use quick_xml::Reader;
use quick_xml::events::Event;

const SECTIONS: &[&str] = &["inbound", "backend", "outbound", "on-error"];

/// Replace every policy expression by `@x`, keeping the text around it.
fn blank_expressions(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '@' && matches!(chars.get(i + 1), Some('(') | Some('{')) {
            let open = chars[i + 1];
            let close = if open == '(' { ')' } else { '}' };
            let mut depth = 0usize;
            let mut j = i + 1;
            let mut in_str: Option<char> = None;
            while j < chars.len() {
                let d = chars[j];
                if let Some(q) = in_str {
                    if d == '\\' {
                        j += 1;
                    } else if d == q {
                        in_str = None;
                    }
                } else if d == '"' || d == '\'' {
                    in_str = Some(d);
                } else if d == open {
                    depth += 1;
                } else if d == close {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            if j >= chars.len() {
                // Unbalanced: leave it for the XML parser to judge.
                out.push(c);
                i += 1;
                continue;
            }
            out.push_str("@x");
            i = j + 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, col)
}

/// `Ok` for a valid policy document, else the detail message APIM would give.
pub fn validate(value: &str) -> Result<(), String> {
    let text = blank_expressions(value);
    let mut reader = Reader::from_str(&text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut root_closed = false;
    let mut seen_sections: Vec<String> = Vec::new();
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = reader.read_event();
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                let (l, c) = line_col(&text, reader.error_position() as usize);
                return Err(format!("{e}. Line {l}, position {c}."));
            }
        };
        let element_start = |name: &[u8]| -> Result<(), String> {
            let name = String::from_utf8_lossy(name).to_string();
            let (l, c) = line_col(&text, pos + 1);
            if root_closed {
                return Err(format!(
                    "There are multiple root elements. Line {l}, position {}.",
                    c + 1
                ));
            }
            if depth == 0 {
                if name != "policies" {
                    return Err(format!(
                        "Error in element '{name}' on line {l}, column {c}: The root element of a policy document must be 'policies'."
                    ));
                }
            } else if depth == 1 {
                if !SECTIONS.contains(&name.as_str()) {
                    return Err(format!(
                        "Error in element '{name}' on line {l}, column {c}: Unknown policy section. Allowed sections are 'inbound', 'backend', 'outbound' and 'on-error'."
                    ));
                }
                if seen_sections.contains(&name) {
                    return Err(format!(
                        "Error in element '{name}' on line {l}, column {c}: Section '{name}' appears more than once."
                    ));
                }
            }
            Ok(())
        };
        match ev {
            Event::Start(e) => {
                element_start(e.name().as_ref())?;
                check_attributes(&e, &text, pos)?;
                if depth == 1 {
                    seen_sections.push(String::from_utf8_lossy(e.name().as_ref()).to_string());
                }
                root_seen = true;
                depth += 1;
            }
            Event::Empty(e) => {
                element_start(e.name().as_ref())?;
                check_attributes(&e, &text, pos)?;
                if depth == 1 {
                    seen_sections.push(String::from_utf8_lossy(e.name().as_ref()).to_string());
                }
                if depth == 0 {
                    root_closed = true;
                }
                root_seen = true;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    root_closed = true;
                }
            }
            Event::Text(t) => {
                if let Err(e) = t.unescape() {
                    let (l, c) = line_col(&text, pos);
                    return Err(format!("{e}. Line {l}, position {c}."));
                }
                if depth == 0 && !t.iter().all(u8::is_ascii_whitespace) {
                    let (l, c) = line_col(&text, pos);
                    return Err(format!(
                        "Data at the root level is invalid. Line {l}, position {c}."
                    ));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err("Root element is missing.".into());
    }
    if depth != 0 {
        let (l, c) = line_col(&text, text.len());
        return Err(format!(
            "Unexpected end of file has occurred. The following elements are not closed: policies. Line {l}, position {c}."
        ));
    }
    Ok(())
}

fn check_attributes(
    e: &quick_xml::events::BytesStart<'_>,
    text: &str,
    pos: usize,
) -> Result<(), String> {
    for a in e.attributes().with_checks(true) {
        let a = a.map_err(|err| {
            let (l, c) = line_col(text, pos);
            format!("{err}. Line {l}, position {c}.")
        })?;
        if let Err(err) = a.unescape_value() {
            let (l, c) = line_col(text, pos);
            return Err(format!("{err}. Line {l}, position {c}."));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "<policies><inbound><base /><set-backend-service id=\"apim-generated-policy\" backend-id=\"fn\" /><authentication-managed-identity resource=\"api://x\" /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>";

    #[test]
    fn accepts_real_policies_and_expressions() {
        assert_eq!(validate(GOOD), Ok(()));
        assert_eq!(
            validate(
                "<policies> <inbound /> <backend>    <forward-request />  </backend>  <outbound /></policies>"
            ),
            Ok(())
        );
        let expr = "<policies><inbound><set-header name=\"Authorization\" exists-action=\"override\"><value>@(\"Bearer \" + (string)context.Variables[\"t\"])</value></set-header><set-variable name=\"v\" value=\"@(context.Variables[\"a\"] + \"b\")\" /></inbound></policies>";
        assert_eq!(validate(expr), Ok(()));
    }

    #[test]
    fn rejects_malformed_and_wrong_structure() {
        let unclosed = validate("<policies><inbound></policies>").expect_err("mismatch");
        assert!(unclosed.contains("Line 1"), "{unclosed}");
        assert!(validate("<policies><inbound>").is_err());
        assert!(validate("not xml at all").is_err());
        let root = validate("<policy><inbound /></policy>").expect_err("root");
        assert!(
            root.starts_with("Error in element 'policy' on line 1"),
            "{root}"
        );
        let section = validate("<policies><inbond /></policies>").expect_err("section");
        assert!(section.contains("'inbond'"), "{section}");
        assert!(validate("<policies><inbound /><inbound /></policies>").is_err());
        assert!(validate("<policies></policies><policies></policies>").is_err());
        assert!(validate("<policies a=\"1\" a=\"2\"></policies>").is_err());
        assert!(validate("<policies>&nope;</policies>").is_err());
        assert!(validate("").is_err());
    }
}
