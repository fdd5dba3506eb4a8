//! The one error type of the ARM client, and the parsing of Azure's two error-body shapes.

use serde_json::Value;
use std::fmt;

/// What went wrong, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Azure answered with an error status (after any retries).
    Http,
    /// A long-running operation ended `Failed` or `Canceled`, or a resource's
    /// `provisioningState` did.
    OperationFailed,
    /// No access token could be obtained from the credential.
    Token,
    /// The request never got an answer: connection, TLS or timeout failure.
    Transport,
    /// Azure answered success but with something the client cannot use (e.g. a body that is not
    /// JSON, a `nextLink` that repeats).
    InvalidResponse,
    /// The caller asked for something that cannot be sent (e.g. a path that is not a URL).
    InvalidRequest,
}

/// One entry of an error's `details`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorDetail {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Everything the ARM client reports as failure.
///
/// Display reads like az: `(Code) Message`, then `Code:`/`Message:` lines, then the operation
/// (method and path, never the query: polling URLs carry signatures), the HTTP status and the
/// `x-ms-request-id` to quote to Azure support.
#[derive(Debug)]
pub struct ArmError(Box<Fields>);

/// Boxed so that `Result<T, ArmError>` stays one pointer wide on the error side.
#[derive(Debug)]
struct Fields {
    kind: ErrorKind,
    operation: String,
    status: Option<u16>,
    code: Option<String>,
    message: String,
    details: Vec<ErrorDetail>,
    request_id: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ArmError {
    /// Azure answered `status` with `body` (JSON in either shape, or anything else).
    pub fn from_response(
        operation: impl Into<String>,
        status: u16,
        body: &[u8],
        request_id: Option<String>,
    ) -> Self {
        let parsed = parse_error_body(body);
        let message = parsed
            .message
            .clone()
            .unwrap_or_else(|| fallback_message(status, body));
        Self(Box::new(Fields {
            kind: ErrorKind::Http,
            operation: operation.into(),
            status: Some(status),
            code: parsed.code,
            message,
            details: parsed.details,
            request_id,
            source: None,
        }))
    }

    /// A long-running operation or provisioning ended in `state` (`Failed`, `Canceled`);
    /// `body` is the status resource or the resource itself, read for Azure's error.
    pub fn operation_failed(
        operation: impl Into<String>,
        state: &str,
        body: Option<&Value>,
        request_id: Option<String>,
    ) -> Self {
        let parsed = body.map(parse_error_value).unwrap_or_default();
        let message = parsed
            .message
            .unwrap_or_else(|| format!("the long-running operation ended with status {state}"));
        Self(Box::new(Fields {
            kind: ErrorKind::OperationFailed,
            operation: operation.into(),
            status: None,
            code: parsed.code.or_else(|| Some(state.to_string())),
            message,
            details: parsed.details,
            request_id,
            source: None,
        }))
    }

    pub fn token(
        operation: impl Into<String>,
        scope: &str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self(Box::new(Fields {
            kind: ErrorKind::Token,
            operation: operation.into(),
            status: None,
            code: None,
            message: format!("could not get an access token for {scope}: {source}"),
            details: Vec::new(),
            request_id: None,
            source: Some(Box::new(source)),
        }))
    }

    pub fn transport(operation: impl Into<String>, source: reqwest::Error) -> Self {
        let message = format!("no answer from Azure: {}", error_chain(&source));
        Self(Box::new(Fields {
            kind: ErrorKind::Transport,
            operation: operation.into(),
            status: None,
            code: None,
            message,
            details: Vec::new(),
            request_id: None,
            source: Some(Box::new(source)),
        }))
    }

    pub fn invalid_response(
        operation: impl Into<String>,
        status: Option<u16>,
        message: impl Into<String>,
        request_id: Option<String>,
    ) -> Self {
        Self(Box::new(Fields {
            kind: ErrorKind::InvalidResponse,
            operation: operation.into(),
            status,
            code: None,
            message: message.into(),
            details: Vec::new(),
            request_id,
            source: None,
        }))
    }

    pub fn invalid_request(operation: impl Into<String>, message: impl Into<String>) -> Self {
        Self(Box::new(Fields {
            kind: ErrorKind::InvalidRequest,
            operation: operation.into(),
            status: None,
            code: None,
            message: message.into(),
            details: Vec::new(),
            request_id: None,
            source: None,
        }))
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// HTTP status of the failed answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// Azure's error code, e.g. `ResourceNotFound`; for a failed long-running operation without
    /// one, the final status (`Failed`, `Canceled`).
    pub fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }

    /// Whether Azure's code is `code`, case-insensitively: `err.has_code("RoleAssignmentExists")`.
    pub fn has_code(&self, code: &str) -> bool {
        self.0
            .code
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(code))
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }

    pub fn details(&self) -> &[ErrorDetail] {
        &self.0.details
    }

    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// The operation that failed: method and path, without the query.
    pub fn operation(&self) -> &str {
        &self.0.operation
    }

    pub fn is_not_found(&self) -> bool {
        self.0.status == Some(404)
    }
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.kind, &self.0.code) {
            (ErrorKind::Http | ErrorKind::OperationFailed, Some(code)) => {
                writeln!(f, "({code}) {}", self.0.message)?;
                writeln!(f, "Code: {code}")?;
                writeln!(f, "Message: {}", self.0.message)?;
            }
            _ => writeln!(f, "{}", self.0.message)?,
        }
        for d in &self.0.details {
            // Details that only repeat the top-level error add noise, not information.
            if d.message.as_deref() == Some(self.0.message.as_str()) && d.code == self.0.code {
                continue;
            }
            match (&d.code, &d.message) {
                (Some(c), Some(m)) => writeln!(f, "Detail: ({c}) {m}")?,
                (Some(c), None) => writeln!(f, "Detail: ({c})")?,
                (None, Some(m)) => writeln!(f, "Detail: {m}")?,
                (None, None) => {}
            }
        }
        write!(f, "Operation: {}", self.0.operation)?;
        let mut extra = Vec::new();
        if let Some(s) = self.0.status {
            extra.push(format!("HTTP {s}"));
        }
        if self.0.kind == ErrorKind::OperationFailed {
            extra.push("long-running operation".to_string());
        }
        if let Some(id) = &self.0.request_id {
            extra.push(format!("request id {id}"));
        }
        if !extra.is_empty() {
            write!(f, " ({})", extra.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ArmError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// `a: b: c` from an error and its sources, since reqwest's top-level text alone ("error sending
/// request") does not say what failed.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

fn fallback_message(status: u16, body: &[u8]) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        format!("HTTP {status} {reason}").trim_end().to_string()
    } else {
        // Non-JSON bodies (HTML error pages from a gateway) can be long; the start says enough.
        let short: String = text.chars().take(300).collect();
        let ellipsis = if text.chars().count() > 300 {
            "…"
        } else {
            ""
        };
        format!("HTTP {status} {reason}: {short}{ellipsis}")
    }
}

/// Code, message and details from an error body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub details: Vec<ErrorDetail>,
}

/// Parse an error body of either shape; anything unparsable gives an empty result.
pub fn parse_error_body(body: &[u8]) -> ParsedError {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => parse_error_value(&v),
        Err(_) => ParsedError::default(),
    }
}

/// Parse `{"error":{"code","message","details"}}` (ARM, also inside a failed LRO's status body)
/// or App Service's top-level `{"Code","Message","Details"}`, keys matched case-insensitively.
pub fn parse_error_value(v: &Value) -> ParsedError {
    match get_ci(v, "error") {
        Some(inner @ Value::Object(_)) => parse_flat(inner),
        // OAuth-style `{"error":"invalid_token","error_description":"…"}`.
        Some(Value::String(code)) => ParsedError {
            code: Some(code.clone()),
            message: str_ci(v, "error_description").or_else(|| str_ci(v, "message")),
            details: Vec::new(),
        },
        _ => parse_flat(v),
    }
}

fn parse_flat(v: &Value) -> ParsedError {
    let mut details = Vec::new();
    if let Some(Value::Array(items)) = get_ci(v, "details") {
        for item in items {
            // App Service nests the useful part under `ErrorEntity`.
            let src = get_ci(item, "errorentity").unwrap_or(item);
            let d = ErrorDetail {
                code: str_ci(src, "code"),
                message: str_ci(src, "message"),
            };
            if d.code.is_some() || d.message.is_some() {
                details.push(d);
            }
        }
    }
    ParsedError {
        code: str_ci(v, "code"),
        message: str_ci(v, "message"),
        details,
    }
}

fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn str_ci(v: &Value, key: &str) -> Option<String> {
    match get_ci(v, key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_arm_shape_with_null_details() {
        let body = br#"{"error":{"code":"PessimisticConcurrencyConflict","message":"Operation on the API is in progress","details":null}}"#;
        let p = parse_error_body(body);
        assert_eq!(p.code.as_deref(), Some("PessimisticConcurrencyConflict"));
        assert_eq!(
            p.message.as_deref(),
            Some("Operation on the API is in progress")
        );
        assert!(p.details.is_empty());
    }

    #[test]
    fn parses_the_app_service_pascal_case_shape_with_error_entity_details() {
        let body = json!({
            "Code": "NotFound",
            "Message": "Cannot find WebSite with name x.",
            "Target": null,
            "Details": [
                {"Message": "Cannot find WebSite with name x."},
                {"Code": "NotFound"},
                {"ErrorEntity": {"ExtendedCode": "04005", "Code": "NotFound", "Message": "Cannot find WebSite with name x."}}
            ],
            "Innererror": null
        });
        let p = parse_error_value(&body);
        assert_eq!(p.code.as_deref(), Some("NotFound"));
        assert_eq!(
            p.message.as_deref(),
            Some("Cannot find WebSite with name x.")
        );
        assert_eq!(p.details.len(), 3);
        assert_eq!(p.details[2].code.as_deref(), Some("NotFound"));
    }

    #[test]
    fn parses_mixed_case_keys_and_details_arrays() {
        let body = json!({"ERROR": {"Code": "InvalidTemplate", "MESSAGE": "bad", "details": [{"code": "A", "message": "first"}]}});
        let p = parse_error_value(&body);
        assert_eq!(p.code.as_deref(), Some("InvalidTemplate"));
        assert_eq!(p.message.as_deref(), Some("bad"));
        assert_eq!(
            p.details,
            vec![ErrorDetail {
                code: Some("A".into()),
                message: Some("first".into())
            }]
        );
    }

    #[test]
    fn parses_oauth_style_errors() {
        let p =
            parse_error_value(&json!({"error": "invalid_token", "error_description": "expired"}));
        assert_eq!(p.code.as_deref(), Some("invalid_token"));
        assert_eq!(p.message.as_deref(), Some("expired"));
    }

    #[test]
    fn non_json_and_empty_bodies_give_a_status_message() {
        let e = ArmError::from_response("GET /x", 502, b"<html>Bad Gateway</html>", None);
        assert_eq!(e.code(), None);
        assert_eq!(
            e.message(),
            "HTTP 502 Bad Gateway: <html>Bad Gateway</html>"
        );
        let e = ArmError::from_response("GET /x", 503, b"", None);
        assert_eq!(e.message(), "HTTP 503 Service Unavailable");
        let long = "x".repeat(1000);
        let e = ArmError::from_response("GET /x", 500, long.as_bytes(), None);
        assert!(e.message().ends_with('…'));
        assert!(e.message().len() < 400);
    }

    #[test]
    fn display_reads_like_az_with_the_operation_and_request_id() {
        let body = br#"{"error":{"code":"ResourceNotFound","message":"The Resource 'Microsoft.Web/sites/x' was not found."}}"#;
        let e = ArmError::from_response(
            "GET /subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/x",
            404,
            body,
            Some("req-1".into()),
        );
        assert_eq!(
            e.to_string(),
            "(ResourceNotFound) The Resource 'Microsoft.Web/sites/x' was not found.\n\
             Code: ResourceNotFound\n\
             Message: The Resource 'Microsoft.Web/sites/x' was not found.\n\
             Operation: GET /subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/x (HTTP 404, request id req-1)"
        );
        assert!(e.is_not_found());
        assert!(e.has_code("resourcenotfound"));
        assert_eq!(e.kind(), ErrorKind::Http);
    }

    #[test]
    fn display_lists_details_that_add_information() {
        let body = json!({"error": {"code": "InvalidRequest", "message": "bad input",
            "details": [{"code": "InvalidRequest", "message": "bad input"}, {"code": "NameTooLong", "message": "name is 90 chars"}]}});
        let e = ArmError::from_response("PUT /x", 400, body.to_string().as_bytes(), None);
        let text = e.to_string();
        assert!(
            text.contains("Detail: (NameTooLong) name is 90 chars"),
            "{text}"
        );
        assert_eq!(text.matches("Detail:").count(), 1, "{text}");
    }

    #[test]
    fn failed_operations_carry_azure_error_or_the_final_status() {
        let status = json!({"status": "Failed", "error": {"code": "ActivationFailed", "message": "APIM could not start"}});
        let e = ArmError::operation_failed("PUT /x/service/a", "Failed", Some(&status), None);
        assert_eq!(e.code(), Some("ActivationFailed"));
        assert_eq!(e.message(), "APIM could not start");
        assert_eq!(e.kind(), ErrorKind::OperationFailed);
        assert!(
            e.to_string()
                .ends_with("Operation: PUT /x/service/a (long-running operation)")
        );
        let e = ArmError::operation_failed(
            "DELETE /x",
            "Canceled",
            Some(&json!({"status": "Canceled"})),
            None,
        );
        assert_eq!(e.code(), Some("Canceled"));
        assert_eq!(
            e.message(),
            "the long-running operation ended with status Canceled"
        );
    }

    #[test]
    fn token_errors_keep_their_source_and_say_which_scope() {
        let src = std::io::Error::other("AADSTS700024: client assertion expired");
        let e = ArmError::token("PUT /x", "https://management.azure.com/.default", src);
        assert_eq!(e.kind(), ErrorKind::Token);
        assert!(e.to_string().starts_with(
            "could not get an access token for https://management.azure.com/.default: AADSTS700024"
        ));
        assert!(std::error::Error::source(&e).is_some());
    }
}
