//! `/api/v2/users`: users of the built-in database connection
//! (auth0-compat.md §8): create needs `connection`, `email` and `password`;
//! a duplicate email is 409 `The user already exists.`; blocking is a PATCH
//! of `blocked`. Search and sort are parsed by
//! [`gatehouse_core::user_query`] and run in the store's SQL.

use super::auth::SelfService;
use super::error::{deleted, messages, written, Managed, ManagementError, MgmtResult};
use super::extract::{MJson, MPath, MQuery};
use super::pagination::{shape_page, Paging};
use super::render::{self, check_id, FieldsQuery};
use crate::actions::{self, FlowError, RequestFacts};
use crate::bearer::AccessToken;
use crate::extract::Params;
use crate::password::hash_password_blocking;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use gatehouse_core::ids;
use gatehouse_core::model::{User, DEFAULT_CONNECTION};
use gatehouse_core::password_policy::PersonalInfo;
use gatehouse_core::redact::Secret;
use gatehouse_core::user_query::{parse_user_query, UserSort};
use gatehouse_store::{StoredUser, UserSearch};
use serde::Deserialize;
use serde_json::{Map, Value};

/// `POST /users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub connection: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = Option<String>)]
    pub password: Option<Secret<String>>,
    /// Without the `auth0|` prefix, as Auth0 takes it.
    pub user_id: Option<String>,
    pub email_verified: Option<bool>,
    /// Accepted; Gatehouse sends no email.
    pub verify_email: Option<bool>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub picture: Option<String>,
    pub blocked: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub app_metadata: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    pub user_metadata: Option<Map<String, Value>>,
}

/// `PATCH /users/{id}`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub connection: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = Option<String>)]
    pub password: Option<Secret<String>>,
    pub email_verified: Option<bool>,
    pub verify_email: Option<bool>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub picture: Option<String>,
    pub blocked: Option<bool>,
    #[schema(value_type = Option<Object>)]
    pub app_metadata: Option<Map<String, Value>>,
    #[schema(value_type = Option<Object>)]
    pub user_metadata: Option<Map<String, Value>>,
}

/// Search parameters of `GET /users`.
#[derive(Debug, Default, Deserialize)]
pub struct UserQuery {
    pub q: Option<String>,
    pub search_engine: Option<String>,
    pub sort: Option<String>,
    pub connection: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    MQuery(paging): MQuery<Paging>,
    MQuery(query): MQuery<UserQuery>,
    MQuery(fields): MQuery<FieldsQuery>,
) -> MgmtResult<Json<Value>> {
    let window = paging.window()?;
    if let Some(engine) = query.search_engine.as_deref() {
        if engine != "v3" && engine != "v2" {
            return Err(ManagementError::invalid_query(
                "Query validation error: 'search_engine' must be v3.",
            ));
        }
    }
    let search = UserSearch {
        terms: parse_user_query(query.q.as_deref().unwrap_or(""))?,
        connection: query.connection,
        sort: query.sort.as_deref().map(UserSort::parse).transpose()?,
        page: window.page(),
        include_total: window.include_totals,
    };
    let found = state.store().search_users(&search).await?;
    let rendered: Vec<Value> = found
        .users
        .iter()
        .map(|s| fields.project(render::user(&s.user)))
        .collect();
    Ok(Json(shape_page(rendered, found.total, window, "users")))
}

/// The query of `GET /users-by-email`.
#[derive(Debug, Default, Deserialize)]
pub struct EmailQuery {
    pub email: Option<String>,
}

/// `GET /users-by-email`: the users of every connection with that email.
/// Auth0 compares case-sensitively but stores database users' emails in
/// lower case; Gatehouse keeps the case given and compares case-insensitively,
/// as its logins do, so a search in lower case finds what Auth0's would.
pub async fn by_email(
    State(state): State<AppState>,
    MQuery(query): MQuery<EmailQuery>,
    MQuery(fields): MQuery<FieldsQuery>,
) -> MgmtResult<Json<Vec<Value>>> {
    let email = match query.email.as_deref() {
        None => {
            return Err(ManagementError::invalid_query(
                "Query validation error: 'Missing required property: email'.",
            ))
        }
        Some("") => {
            return Err(ManagementError::invalid_query(
                "Query validation error: 'email' must not be empty.",
            ))
        }
        Some(email) => email,
    };
    let users = state.store().users_with_email(email).await?;
    Ok(Json(
        users
            .iter()
            .map(|s| fields.project(render::user(&s.user)))
            .collect(),
    ))
}

/// A user by id, or 404 `inexistent_user`.
pub async fn find(state: &AppState, id: &str) -> MgmtResult<StoredUser> {
    check_id(id, "id")?;
    state
        .store()
        .user(id)
        .await?
        .ok_or_else(StoredUser::missing)
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MQuery(fields): MQuery<FieldsQuery>,
) -> MgmtResult<Json<Value>> {
    let stored = find(&state, &id).await?;
    Ok(Json(fields.project(render::user(&stored.user))))
}

fn check_connection(connection: Option<&str>, required: bool) -> MgmtResult<()> {
    match connection {
        None if required => Err(ManagementError::invalid_body(
            "Payload validation error: 'Missing required property: connection'.",
        )),
        Some(c) if c != DEFAULT_CONNECTION => Err(ManagementError::invalid_body(format!(
            "The connection does not exist: {c:?} (the only database connection is {DEFAULT_CONNECTION:?})."
        ))),
        _ => Ok(()),
    }
}

fn check_email(email: &str) -> MgmtResult<()> {
    let ok = email.len() <= 320
        && !email.contains(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if !ok {
        return Err(ManagementError::invalid_body(format!(
            "Payload validation error: 'email' {email:?} is not a valid email address."
        )));
    }
    Ok(())
}

/// Checks a new password against the connection's policy, with what the
/// user's profile will be, and hashes it. A refusal is Auth0's 400,
/// `PasswordStrengthError: Password is too weak` and the like.
async fn hash(state: &AppState, password: &str, user: &User) -> MgmtResult<String> {
    let policy = super::connections::database_options(state)
        .await?
        .password_policy();
    if let Err(refused) = policy.check(password, &PersonalInfo::of(user)) {
        return Err(ManagementError::new(
            StatusCode::BAD_REQUEST,
            refused.management_message(),
            "invalid_body",
        ));
    }
    hash_password_blocking(password.to_string())
        .await
        .map_err(ManagementError::internal)
}

fn conflict() -> ManagementError {
    ManagementError::conflict(messages::USER_EXISTS, "auth0_idp_error")
}

impl Managed for StoredUser {
    fn missing() -> ManagementError {
        ManagementError::not_found("The user does not exist.", "inexistent_user")
    }
    fn duplicate(&self) -> ManagementError {
        conflict()
    }
}

pub async fn create(
    State(state): State<AppState>,
    MJson(body): MJson<CreateUser>,
) -> MgmtResult<(StatusCode, Json<Value>)> {
    check_connection(body.connection.as_deref(), true)?;
    let verify_email = body.verify_email;
    let email = body.email.as_deref().ok_or_else(|| {
        ManagementError::invalid_body(
            "Payload validation error: 'Missing required property: email'.",
        )
    })?;
    check_email(email)?;
    let password = body
        .password
        .as_ref()
        .map(Secret::expose_str)
        .ok_or_else(|| {
            ManagementError::invalid_body(
                "Payload validation error: 'Missing required property: password'.",
            )
        })?;
    let user_id =
        match body.user_id.as_deref() {
            None => ids::user_id(),
            Some(id)
                if !id.is_empty()
                    && id.len() <= 64
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                format!("auth0|{id}")
            }
            Some(_) => return Err(ManagementError::invalid_body(
                "Payload validation error: 'user_id' must be 1 to 64 letters, digits, '_' or '-'.",
            )),
        };
    if state
        .store()
        .user_by_email(DEFAULT_CONNECTION, email)
        .await?
        .is_some()
    {
        return Err(conflict());
    }
    let mut user = User::new(user_id, email, state.now());
    apply(
        &mut user,
        UpdateUser {
            email_verified: body.email_verified,
            name: body.name,
            nickname: body.nickname,
            given_name: body.given_name,
            family_name: body.family_name,
            picture: body.picture,
            blocked: body.blocked,
            app_metadata: body.app_metadata,
            user_metadata: body.user_metadata,
            ..UpdateUser::default()
        },
    );
    let password_hash = hash(&state, password, &user).await?;
    let request = RequestFacts::post(&Params::default());
    let user = match actions::pre_user_registration(&state, &user, None, &request).await {
        Ok(effects) => actions::with_metadata(user, &effects),
        Err(FlowError::Internal(e)) => return Err(ManagementError::internal(format!("{e:?}"))),
        Err(refused) => {
            return Err(ManagementError::new(
                StatusCode::BAD_REQUEST,
                refused.oauth_error().error_description,
                "access_denied",
            ))
        }
    };
    let stored = StoredUser {
        user,
        password_hash: Some(password_hash),
    };
    written(state.store().create_user(&stored).await, &stored)?;
    crate::email::after_management_create(&state, &stored.user, verify_email).await?;
    Ok((StatusCode::CREATED, Json(render::user(&stored.user))))
}

/// Merges metadata as Auth0 does: top-level keys are set, `null` deletes a
/// key, an empty object clears everything.
pub(crate) fn merge_metadata(target: &mut Value, patch: Map<String, Value>) {
    if patch.is_empty() || !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(existing) = target {
        for (key, value) in patch {
            if value.is_null() {
                existing.remove(&key);
            } else {
                existing.insert(key, value);
            }
        }
    }
}

fn apply(user: &mut User, body: UpdateUser) {
    if let Some(v) = body.email_verified {
        user.email_verified = v;
    }
    for (target, value) in [
        (&mut user.name, body.name),
        (&mut user.nickname, body.nickname),
        (&mut user.given_name, body.given_name),
        (&mut user.family_name, body.family_name),
        (&mut user.picture, body.picture),
    ] {
        if let Some(v) = value {
            *target = Some(v);
        }
    }
    if let Some(v) = body.blocked {
        user.blocked = v;
    }
    if let Some(patch) = body.app_metadata {
        merge_metadata(&mut user.app_metadata, patch);
    }
    if let Some(patch) = body.user_metadata {
        merge_metadata(&mut user.user_metadata, patch);
    }
}

/// True when the body changes more than metadata (needs `update:users`).
fn touches_profile(body: &UpdateUser) -> bool {
    body.email.is_some()
        || body.password.is_some()
        || body.email_verified.is_some()
        || body.name.is_some()
        || body.nickname.is_some()
        || body.given_name.is_some()
        || body.family_name.is_some()
        || body.picture.is_some()
        || body.blocked.is_some()
}

fn only_user_metadata(body: &UpdateUser) -> bool {
    !touches_profile(body)
        && body.app_metadata.is_none()
        && body.connection.is_none()
        && body.verify_email.is_none()
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<AccessToken>,
    self_service: Option<Extension<SelfService>>,
    MPath(id): MPath<String>,
    MJson(body): MJson<UpdateUser>,
) -> MgmtResult<Json<Value>> {
    if touches_profile(&body) && !caller.scope.contains("update:users") {
        return Err(ManagementError::insufficient_scope(&["update:users"]));
    }
    // An end-user token changes its own user_metadata and nothing else.
    if self_service.is_some() && !only_user_metadata(&body) {
        return Err(ManagementError::insufficient_scope(&[
            "update:users",
            "update:users_app_metadata",
        ]));
    }
    let mut stored = find(&state, &id).await?;
    let previous_email = stored.user.email.clone();
    check_connection(body.connection.as_deref(), false)?;
    if let Some(email) = body.email.as_deref() {
        check_email(email)?;
        let other = state
            .store()
            .user_by_email(&stored.user.connection, email)
            .await?;
        if other.is_some_and(|o| o.user.user_id != stored.user.user_id) {
            return Err(conflict());
        }
        stored.user.email = Some(email.to_string());
    }
    let mut body = body;
    body.email = None;
    let new_address = !same_address(previous_email.as_deref(), stored.user.email.as_deref());
    // As in Auth0: a new address is unverified unless the request says otherwise.
    if new_address && body.email_verified.is_none() {
        stored.user.email_verified = false;
    }
    let verify_email = body.verify_email.take();
    let password = body.password.take();
    apply(&mut stored.user, body);
    // Checked against the profile as this request leaves it.
    let password_changed = password.is_some();
    if let Some(password) = password.as_ref().map(Secret::expose_str) {
        stored.password_hash = Some(hash(&state, password, &stored.user).await?);
    }
    stored.user.updated_at = state.now();
    written(state.store().update_user(&stored).await, &stored)?;
    if new_address {
        // The links in flight went to the old address: they must not verify
        // the new one, nor reset the password for whoever reads the old one.
        state
            .store()
            .supersede_tickets(&stored.user.user_id, stored.user.updated_at)
            .await?;
        // `verify_email: true` mails the new address its verification link.
        if verify_email == Some(true) && !stored.user.email_verified {
            crate::email::send_to(
                &state,
                gatehouse_mail::templates::VERIFY_EMAIL,
                &stored.user,
                None,
            )
            .await?;
        }
    }
    if password_changed {
        // A password change lifts brute-force blocks, as in Auth0.
        for email in [previous_email, stored.user.email.clone()].iter().flatten() {
            super::user_blocks::unblock(&state, email).await?;
        }
    }
    Ok(Json(render::user(&stored.user)))
}

/// Whether two addresses are the same mailbox as Gatehouse compares them (case aside).
fn same_address(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.to_lowercase() == b.to_lowercase(),
        (a, b) => a == b,
    }
}

pub async fn delete(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    deleted(state.store().delete_user(&id).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_merges_like_auth0() {
        let mut v = json!({"a": 1, "b": 2});
        let patch = json!({"b": null, "c": 3}).as_object().cloned().unwrap();
        merge_metadata(&mut v, patch);
        assert_eq!(v, json!({"a": 1, "c": 3}));
        merge_metadata(&mut v, Map::new());
        assert_eq!(v, json!({}));
    }
}
