//! The request and response shapes every emulated service uses, and Azure's error bodies.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

/// One request, fully read.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    /// Host header without the port, lowercased.
    pub host: String,
    pub path: String,
    /// Raw query string (without `?`), as sent.
    pub raw_query: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Req {
    /// First query parameter with this name (case-insensitive, as ARM treats `api-version`).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The bearer token, if any.
    pub fn bearer(&self) -> Option<&str> {
        let v = self.header("authorization")?;
        let (scheme, token) = v.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    }

    /// The body as JSON; `Err` carries the parse error text.
    pub fn json(&self) -> Result<Value, String> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| e.to_string())
    }
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// An empty response.
pub fn empty(status: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    resp
}

/// A text response.
pub fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut resp = Response::new(Body::from(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// Add a header (ignores values that are not valid header text).
pub fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
    resp
}

/// ARM's standard error shape (common-types `ErrorResponse`):
/// `{"error":{"code","message","details":[]}}`.
pub fn arm_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message, "details": []}}),
    )
}

/// App Service's top-level PascalCase error shape: `{"Code","Message","Target","Details",…}`.
pub fn app_service_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({
            "Code": code,
            "Message": message,
            "Target": null,
            "Details": [
                {"Message": message},
                {"Code": code},
                {"ErrorEntity": {"ExtendedCode": "", "MessageTemplate": message,
                                 "Parameters": [], "Code": code, "Message": message}}
            ],
            "Innererror": null
        }),
    )
}
