//! Extractors that reject in the Management API's own error shape, never in
//! axum's plain text (STYLE.md §4):
//! - [`MJson`]: a JSON object body of at most 1 MB; request DTOs use
//!   `#[serde(deny_unknown_fields)]`, so an unknown field is a 400 naming it;
//! - [`MQuery`]: the query string (unknown parameters are ignored, as SDKs
//!   send extras); a bad value is a 400 naming the parameter;
//! - [`MPath`]: path parameters; undecodable ones are a 400.

use super::error::{messages, ManagementError};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// Auth0 limits Management API bodies to 1 MB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body deserialized into `T`.
#[derive(Debug)]
pub struct MJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for MJson<T> {
    type Rejection = ManagementError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                ManagementError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Payload too large: the limit is 1 MB.",
                    "payload_too_large",
                )
            })?;
        parse_body(&bytes).map(MJson)
    }
}

/// Parses a JSON object into `T` with Auth0's payload-validation messages.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ManagementError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| {
        ManagementError::new(
            StatusCode::BAD_REQUEST,
            messages::INVALID_JSON,
            "invalid_json",
        )
    })?;
    if has_nul(&value) {
        return Err(ManagementError::invalid_body(NUL_IN_BODY));
    }
    if !value.is_object() {
        return Err(ManagementError::invalid_body(format!(
            "Payload validation error: 'Expected type object but found type {}'.",
            json_type(&value)
        )));
    }
    serde_json::from_value(value).map_err(|e| ManagementError::invalid_body(body_message(&e)))
}

/// Auth0's answer to an empty list where at least one item is required.
pub fn require_items<T>(items: &[T], field: &str) -> Result<(), ManagementError> {
    if items.is_empty() {
        return Err(ManagementError::invalid_body(format!(
            "Payload validation error: '{field}' must contain at least one item."
        )));
    }
    Ok(())
}

/// Neither backend may be handed a NUL character (PostgreSQL cannot store
/// one), so both refuse it up front and behave the same.
const NUL_IN_BODY: &str = "Payload validation error: 'Strings must not contain NUL characters'.";

fn has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// A percent-encoded NUL in a path or query string.
fn uri_has_nul(text: Option<&str>) -> bool {
    text.is_some_and(|t| t.contains("%00"))
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `unknown field `x`, expected …` → `Additional properties not allowed: x`.
fn body_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!("Payload validation error: 'Additional properties not allowed: {field}'.");
    }
    if let Some(rest) = text.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!("Payload validation error: 'Missing required property: {field}'.");
    }
    format!("Payload validation error: '{text}'.")
}

/// Query parameters deserialized into `T`.
#[derive(Debug)]
pub struct MQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for MQuery<T> {
    type Rejection = ManagementError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if uri_has_nul(parts.uri.query()) {
            return Err(ManagementError::invalid_query(
                "Query validation error: 'NUL characters are not allowed'.",
            ));
        }
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(v)| MQuery(v))
            .map_err(|e| {
                let text = e.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                ManagementError::invalid_query(format!("Query validation error: '{detail}'."))
            })
    }
}

/// Path parameters deserialized into `T`.
#[derive(Debug)]
pub struct MPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for MPath<T> {
    type Rejection = ManagementError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if uri_has_nul(Some(parts.uri.path())) {
            return Err(ManagementError::invalid_uri(
                "Path validation error: 'NUL characters are not allowed'.",
            ));
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| MPath(v))
            .map_err(|e| ManagementError::invalid_uri(format!("Path validation error: '{e}'.")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Dto {
        name: String,
        #[serde(default)]
        n: Option<u32>,
    }

    #[test]
    fn body_errors_name_the_field() {
        let e = parse_body::<Dto>(br#"{"name":"a","bogus":1}"#).unwrap_err();
        assert_eq!(
            e.message,
            "Payload validation error: 'Additional properties not allowed: bogus'."
        );
        let e = parse_body::<Dto>(br#"{}"#).unwrap_err();
        assert_eq!(
            e.message,
            "Payload validation error: 'Missing required property: name'."
        );
        let e = parse_body::<Dto>(b"{").unwrap_err();
        assert_eq!(e.message, messages::INVALID_JSON);
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = parse_body::<Dto>(b"[]").unwrap_err();
        assert!(e.message.contains("found type array"));
        let e = parse_body::<Dto>(br#"{"name":"a","n":-1}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
