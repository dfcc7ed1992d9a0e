//! Objects as Auth0's Management API renders them (auth0-compat.md §6, §8):
//! users with ISO-8601 times and `identities`, permissions with their API's
//! name, and `fields`/`include_fields` projection.

use super::error::{ManagementError, MgmtResult};
use gatehouse_core::model::{Permission, ResourceServer, User};
use gatehouse_core::time::iso8601;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A user: `user_id`, profile, metadata, `identities`, times as ISO strings.
pub fn user(u: &User) -> Value {
    let hex = u
        .user_id
        .split_once('|')
        .map_or(u.user_id.as_str(), |(_, id)| id);
    json!({
        "user_id": u.user_id,
        "email": u.email,
        "email_verified": u.email_verified,
        "name": u.name,
        "nickname": u.nickname,
        "given_name": u.given_name,
        "family_name": u.family_name,
        "picture": u.picture,
        "blocked": u.blocked,
        "app_metadata": u.app_metadata,
        "user_metadata": u.user_metadata,
        "created_at": iso8601(u.created_at),
        "updated_at": iso8601(u.updated_at),
        "last_login": u.last_login.map(iso8601),
        "logins_count": u.logins_count,
        "identities": [{
            "connection": u.connection,
            "provider": "auth0",
            "user_id": hex,
            "isSocial": false,
        }],
    })
    .as_object()
    .map(|o| {
        // Auth0 leaves unset profile fields out rather than sending null.
        Value::Object(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    })
    .unwrap_or(Value::Null)
}

/// A permission with `resource_server_name` and `description` from its API.
pub fn permission(p: &Permission, apis: &[ResourceServer]) -> Value {
    let api = apis
        .iter()
        .find(|a| a.identifier == p.resource_server_identifier);
    let description = api
        .and_then(|a| a.scopes.iter().find(|s| s.value == p.permission_name))
        .map(|s| s.description.clone())
        .unwrap_or_default();
    json!({
        "resource_server_identifier": p.resource_server_identifier,
        "permission_name": p.permission_name,
        "resource_server_name": api.map(|a| a.name.clone()).unwrap_or_default(),
        "description": description,
    })
}

/// `fields` (comma-separated) and `include_fields` (default true).
#[derive(Debug, Default, Deserialize)]
pub struct FieldsQuery {
    pub fields: Option<String>,
    pub include_fields: Option<bool>,
}

impl FieldsQuery {
    /// Keeps (or, with `include_fields=false`, drops) the named top-level fields.
    pub fn project(&self, value: Value) -> Value {
        let Some(fields) = self.fields.as_deref().filter(|f| !f.trim().is_empty()) else {
            return value;
        };
        let names: Vec<&str> = fields.split(',').map(str::trim).collect();
        let include = self.include_fields.unwrap_or(true);
        match value {
            Value::Object(object) => Value::Object(
                object
                    .into_iter()
                    .filter(|(k, _)| names.contains(&k.as_str()) == include)
                    .collect::<Map<_, _>>(),
            ),
            other => other,
        }
    }
}

/// Checks that an id from the path is plausible before it reaches the store.
pub fn check_id(id: &str, what: &str) -> MgmtResult<()> {
    if id.is_empty() || id.len() > 255 || id.chars().any(char::is_control) {
        return Err(ManagementError::invalid_uri(format!(
            "Path validation error: '{what}' is not a valid id."
        )));
    }
    Ok(())
}
