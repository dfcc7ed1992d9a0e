//! The OpenAPI 3.1 description of the Management API, generated from the
//! route table ([`super::routes()`]): every route appears with its method,
//! path parameters, query parameters, body, success status, error replies
//! and the OAuth2 scopes it accepts. Served unauthenticated at
//! `/api/v2/openapi.json`.

use super::{routes, Endpoint};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};

/// Where the description is served, relative to `/api/v2`.
pub const PATH: &str = "/openapi.json";

pub async fn serve(State(state): State<AppState>) -> Json<Value> {
    Json(document(state.base_url()))
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn query_schema(name: &str) -> Value {
    match name {
        "page" | "per_page" | "take" => json!({"type": "integer", "minimum": 0}),
        "include_totals" | "include_fields" | "is_first_party" => json!({"type": "boolean"}),
        _ => json!({"type": "string"}),
    }
}

fn operation_id(e: &Endpoint) -> String {
    let mut id = e.method.as_openapi().to_string();
    for seg in e.path.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        id.push_str(&seg.replace(['{', '}'], "").replace('-', "_"));
    }
    id
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn operation(e: &Endpoint) -> Value {
    let mut parameters: Vec<Value> = path_params(e.path)
        .into_iter()
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    parameters.extend(e.query.iter().map(|name| {
        json!({"name": name, "in": "query", "required": false, "schema": query_schema(name)})
    }));
    let mut responses = Map::new();
    let success = if e.status == 204 {
        json!({"description": "Success, no content"})
    } else {
        json!({"description": "Success", "content": {"application/json": {"schema": {}}}})
    };
    responses.insert(e.status.to_string(), success);
    if e.body || !e.query.is_empty() || !path_params(e.path).is_empty() {
        responses.insert("400".into(), error_response("Invalid request"));
    }
    responses.insert("401".into(), error_response("Invalid or expired token"));
    responses.insert("403".into(), error_response("Insufficient scope"));
    if !path_params(e.path).is_empty() {
        responses.insert("404".into(), error_response("Not found"));
    }
    if e.method == super::Method::Post || e.method == super::Method::Patch {
        responses.insert("409".into(), error_response("Conflict"));
    }
    let tag = e
        .path
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or("management");
    let mut op = json!({
        "operationId": operation_id(e),
        "summary": e.summary,
        "tags": [tag],
        "description": format!("Scopes (any of): {}", e.scopes.join(", ")),
        "security": [{"oauth2": e.scopes}],
        "responses": responses,
    });
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    if e.body {
        op["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": {"type": "object"}}}
        });
    }
    op
}

/// The whole description, with `base_url` (no trailing slash) as the server.
pub fn document(base_url: &str) -> Value {
    let mut paths = Map::new();
    for route in routes() {
        let e = route.endpoint;
        let item = paths
            .entry(e.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(methods) = item {
            methods.insert(e.method.as_openapi().to_string(), operation(&e));
        }
    }
    let scopes: Map<String, Value> = super::scopes::ALL
        .iter()
        .map(|(name, description)| ((*name).to_string(), json!(description)))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Gatehouse Management API",
            "version": "2",
            "description": "Auth0-compatible Management API v2. Obtain a token with the client_credentials grant for the audience <issuer>api/v2/."
        },
        "servers": [{"url": format!("{base_url}/api/v2")}],
        "security": [{"oauth2": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {"clientCredentials": {
                        "tokenUrl": format!("{base_url}/oauth/token"),
                        "scopes": scopes
                    }}
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["statusCode", "error", "message"],
                    "properties": {
                        "statusCode": {"type": "integer"},
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "errorCode": {"type": "string"}
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_described_once() {
        let doc = document("http://127.0.0.1:1");
        let mut ids = std::collections::HashSet::new();
        for route in routes() {
            let e = route.endpoint;
            let op = &doc["paths"][e.path][e.method.as_openapi()];
            assert!(
                op.is_object(),
                "{} {} missing",
                e.method.as_openapi(),
                e.path
            );
            assert!(ids.insert(op["operationId"].as_str().unwrap_or("").to_string()));
            assert!(op["responses"][e.status.to_string()].is_object());
        }
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
