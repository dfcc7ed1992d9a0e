//! Objects as Auth0's Management API renders them (auth0-compat.md §6, §8):
//! users with ISO-8601 times and `identities`, permissions with their API's
//! name, and `fields`/`include_fields` projection.

use super::error::{ManagementError, MgmtResult};
use gatehouse_core::model::{Permission, ResourceServer, User};
use gatehouse_core::time::iso8601;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A user as the Management API renders it: times as ISO-8601 strings, the
/// database identity in `identities`, and unset profile fields left out
/// rather than sent as null (as Auth0 does).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    pub blocked: bool,
    #[serde(skip_serializing_if = "Value::is_null")]
    #[schema(value_type = Object)]
    pub app_metadata: Value,
    #[serde(skip_serializing_if = "Value::is_null")]
    #[schema(value_type = Object)]
    pub user_metadata: Value,
    /// ISO 8601.
    pub created_at: String,
    /// ISO 8601.
    pub updated_at: String,
    /// ISO 8601; absent before the first login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_login: Option<String>,
    pub logins_count: i64,
    pub identities: Vec<Identity>,
}

/// The one identity of a database user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Identity {
    pub connection: String,
    /// Always `auth0`.
    pub provider: String,
    /// The user id without the `auth0|` prefix.
    pub user_id: String,
    #[serde(rename = "isSocial")]
    pub is_social: bool,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        let hex = u
            .user_id
            .split_once('|')
            .map_or(u.user_id.as_str(), |(_, id)| id);
        Self {
            user_id: u.user_id.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            name: u.name.clone(),
            nickname: u.nickname.clone(),
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            picture: u.picture.clone(),
            blocked: u.blocked,
            app_metadata: u.app_metadata.clone(),
            user_metadata: u.user_metadata.clone(),
            created_at: iso8601(u.created_at),
            updated_at: iso8601(u.updated_at),
            last_login: u.last_login.map(iso8601),
            logins_count: u.logins_count,
            identities: vec![Identity {
                connection: u.connection.clone(),
                provider: "auth0".into(),
                user_id: hex.to_string(),
                is_social: false,
            }],
        }
    }
}

/// A user as JSON (see [`UserView`]).
pub fn user(u: &User) -> Value {
    serde_json::to_value(UserView::from(u)).unwrap_or(Value::Null)
}

/// A permission with its API's name and the scope's description; a user's
/// permissions also carry their `sources`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Permission)]
pub struct PermissionView {
    pub resource_server_identifier: String,
    pub permission_name: String,
    pub resource_server_name: String,
    pub description: String,
    /// Only in a user's permissions: where the permission comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<PermissionSourceView>>,
}

/// One source of a user's permission.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PermissionSource)]
pub struct PermissionSourceView {
    /// The role's id; empty for a direct assignment.
    pub source_id: String,
    /// The role's name; empty for a direct assignment.
    pub source_name: String,
    pub source_type: PermissionSourceType,
}

/// Whether a permission was assigned to the user or comes with a role.
#[derive(Debug, Serialize, ToSchema)]
pub enum PermissionSourceType {
    #[serde(rename = "DIRECT")]
    Direct,
    #[serde(rename = "ROLE")]
    Role,
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
    let view = PermissionView {
        resource_server_identifier: p.resource_server_identifier.clone(),
        permission_name: p.permission_name.clone(),
        resource_server_name: api.map(|a| a.name.clone()).unwrap_or_default(),
        description,
        sources: None,
    };
    serde_json::to_value(view).unwrap_or(Value::Null)
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
