//! The Profile tab of a user: edit the profile and metadata, set a
//! password, block or unblock, lift failed-login blocks, delete. Each write
//! is the Management API's `PATCH`/`DELETE /users/{id}` or
//! `DELETE /user-blocks/{id}`, run in-process.

use super::super::changes;
use super::super::form::{AdminForm, FieldErrors};
use super::super::render::{confirm, page_with_status, see_other, AdminResult, Confirm};
use super::super::session::Admin;
use super::checks::{check_email, check_password_pair, metadata_patch, parse_metadata, user_error};
use super::{
    caller, done_notice, encode, load, load_outranked, tabs, user_path, DoneQuery, UserSummary,
};
use crate::routes::management::connections;
use crate::routes::management::error::ManagementError;
use crate::routes::management::extract::{MJson, MPath};
use crate::routes::management::user_blocks;
use crate::routes::management::users::{self, UpdateUser};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use gatehouse_core::model::User;
use gatehouse_core::redact::Secret;
use minijinja::context;
use serde_json::Value;
use std::collections::BTreeMap;

/// The profile form's fields.
const PROFILE_FIELDS: &[&str] = &[
    "email",
    "name",
    "nickname",
    "given_name",
    "family_name",
    "picture",
    "app_metadata",
    "user_metadata",
];

/// What the Profile tab shows besides the user.
#[derive(Default)]
struct Forms {
    /// The profile form as typed, when shown again with errors.
    typed: Option<BTreeMap<String, String>>,
    errors: FieldErrors,
    password_errors: FieldErrors,
    notice: Option<&'static str>,
}

/// `GET /admin/users/{id}`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(done): Query<DoneQuery>,
) -> AdminResult {
    let user = load(&state, &id).await?;
    let forms = Forms {
        notice: done_notice(done.done.as_deref()),
        ..Forms::default()
    };
    profile_page(&state, &admin, &user, StatusCode::OK, forms).await
}

async fn profile_page(
    state: &AppState,
    admin: &Admin,
    user: &User,
    status: StatusCode,
    forms: Forms,
) -> AdminResult {
    let lockouts = failed_login_blocks(state, &user.user_id).await?;
    let values = forms.typed.unwrap_or_else(|| stored_values(user));
    Ok(page_with_status(
        status,
        admin,
        "users",
        "users_profile.html",
        context! {
            user => UserSummary::of(user),
            tabs => tabs(&user.user_id),
            tab => "profile",
            v => values,
            errors => forms.errors,
            password_errors => forms.password_errors,
            notice => forms.notice,
            lockouts => lockouts,
            is_self => user.user_id == admin.user.user_id,
        },
    ))
}

/// The IP addresses from which the user's login is blocked after failed
/// attempts (`GET /user-blocks/{id}`).
async fn failed_login_blocks(state: &AppState, id: &str) -> Result<Vec<String>, ManagementError> {
    let Json(blocks) =
        user_blocks::get_for_user(State(state.clone()), MPath(id.to_string())).await?;
    Ok(blocks["blocked_for"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["ip"].as_str().map(str::to_string))
        .collect())
}

/// The profile form filled from the stored user.
fn stored_values(user: &User) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for (key, value) in [
        ("email", &user.email),
        ("name", &user.name),
        ("nickname", &user.nickname),
        ("given_name", &user.given_name),
        ("family_name", &user.family_name),
        ("picture", &user.picture),
    ] {
        values.insert(key.to_string(), value.clone().unwrap_or_default());
    }
    if user.email_verified {
        values.insert("email_verified".into(), "on".into());
    }
    values.insert("app_metadata".into(), pretty(&user.app_metadata));
    values.insert("user_metadata".into(), pretty(&user.user_metadata));
    values
}

fn pretty(metadata: &Value) -> String {
    match metadata.as_object() {
        Some(map) if !map.is_empty() => serde_json::to_string_pretty(metadata).unwrap_or_default(),
        _ => "{}".into(),
    }
}

/// The new value of a profile field when the form changed it.
fn changed(typed: String, stored: &Option<String>) -> Option<String> {
    (typed != stored.as_deref().unwrap_or("")).then_some(typed)
}

/// `POST /admin/users/{id}`: saves the profile.
pub async fn save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let user = load_outranked(&state, &admin, &id).await?;
    let mut errors = FieldErrors::default();
    let email = fields.text("email");
    check_email(&mut errors, "email", &email);
    let app = parse_metadata(
        &mut errors,
        "app_metadata",
        fields.get("app_metadata").unwrap_or(""),
    );
    let own = parse_metadata(
        &mut errors,
        "user_metadata",
        fields.get("user_metadata").unwrap_or(""),
    );
    let (Some(app), Some(own), true) = (app, own, errors.is_empty()) else {
        return show_again(&state, &admin, &user, fields.typed(), errors).await;
    };
    let verified = fields.checked("email_verified");
    let body = UpdateUser {
        email: changed(email, &user.email),
        name: changed(fields.text("name"), &user.name),
        nickname: changed(fields.text("nickname"), &user.nickname),
        given_name: changed(fields.text("given_name"), &user.given_name),
        family_name: changed(fields.text("family_name"), &user.family_name),
        picture: changed(fields.text("picture"), &user.picture),
        email_verified: (verified != user.email_verified).then_some(verified),
        app_metadata: metadata_patch(&user.app_metadata, app),
        user_metadata: metadata_patch(&user.user_metadata, own),
        ..UpdateUser::default()
    };
    match patch(&state, &admin, &id, body).await {
        Ok(()) => Ok(see_other(&user_path(&id, "?done=saved"))),
        Err(e) if !e.status.is_server_error() => {
            let errors = user_error(&e, PROFILE_FIELDS);
            show_again(&state, &admin, &user, fields.typed(), errors).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn show_again(
    state: &AppState,
    admin: &Admin,
    user: &User,
    typed: BTreeMap<String, String>,
    errors: FieldErrors,
) -> AdminResult {
    let forms = Forms {
        typed: Some(typed),
        errors,
        ..Forms::default()
    };
    profile_page(state, admin, user, StatusCode::UNPROCESSABLE_ENTITY, forms).await
}

/// `PATCH /users/{id}` as the admin, recorded when it succeeds.
async fn patch(
    state: &AppState,
    admin: &Admin,
    id: &str,
    body: UpdateUser,
) -> Result<(), ManagementError> {
    let _updated = users::update(
        State(state.clone()),
        Extension(caller(state, admin)),
        None,
        MPath(id.to_string()),
        MJson(body),
    )
    .await?;
    changes::record(state, admin, "PATCH", &format!("/users/{}", encode(id))).await;
    Ok(())
}

/// `GET /admin/users/{id}/password`: the form is on the Profile tab.
pub async fn show_password(_admin: Admin, Path(id): Path<String>) -> Response {
    see_other(&user_path(&id, "#password"))
}

/// `POST /admin/users/{id}/password`.
pub async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let user = load_outranked(&state, &admin, &id).await?;
    let password = fields.get("password").unwrap_or("").to_string();
    let mut errors = FieldErrors::default();
    let policy = connections::database_options(&state)
        .await?
        .password_policy();
    check_password_pair(
        &mut errors,
        &password,
        fields.get("password_repeat").unwrap_or(""),
        &policy,
    );
    if errors.is_empty() {
        let body = UpdateUser {
            password: Some(Secret::new(password)),
            ..UpdateUser::default()
        };
        match patch(&state, &admin, &id, body).await {
            Ok(()) => return Ok(see_other(&user_path(&id, "?done=password"))),
            Err(e) if !e.status.is_server_error() => {
                errors = user_error(&e, &["password"]);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let forms = Forms {
        password_errors: errors,
        ..Forms::default()
    };
    profile_page(
        &state,
        &admin,
        &user,
        StatusCode::UNPROCESSABLE_ENTITY,
        forms,
    )
    .await
}

/// What signing out of one's own account means, on a confirmation page.
fn self_warning(admin: &Admin, user: &User) -> &'static str {
    if admin.user.user_id == user.user_id {
        " This is your own account: you will lose access to the dashboard."
    } else {
        ""
    }
}

/// `GET /admin/users/{id}/block`.
pub async fn confirm_block(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AdminResult {
    let user = load(&state, &id).await?;
    let summary = UserSummary::of(&user);
    Ok(confirm(
        &admin,
        Confirm {
            section: "users",
            title: "Block this user?",
            message: format!(
                "{} will not be able to log in or refresh tokens until you unblock them.{}",
                summary.title,
                self_warning(&admin, &user)
            ),
            action: user_path(&id, "/block"),
            button: "Block user",
            back: summary.path,
        },
    ))
}

/// `POST /admin/users/{id}/block`.
pub async fn block(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    set_blocked(&state, &form.admin, &id, true).await
}

/// `GET /admin/users/{id}/unblock`.
pub async fn confirm_unblock(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AdminResult {
    let user = load(&state, &id).await?;
    let summary = UserSummary::of(&user);
    Ok(confirm(
        &admin,
        Confirm {
            section: "users",
            title: "Unblock this user?",
            message: format!("{} will be able to log in again.", summary.title),
            action: user_path(&id, "/unblock"),
            button: "Unblock user",
            back: summary.path,
        },
    ))
}

/// `POST /admin/users/{id}/unblock`.
pub async fn unblock(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    set_blocked(&state, &form.admin, &id, false).await
}

async fn set_blocked(state: &AppState, admin: &Admin, id: &str, blocked: bool) -> AdminResult {
    load_outranked(state, admin, id).await?;
    let body = UpdateUser {
        blocked: Some(blocked),
        ..UpdateUser::default()
    };
    patch(state, admin, id, body).await?;
    let done = if blocked {
        "?done=blocked"
    } else {
        "?done=unblocked"
    };
    Ok(see_other(&user_path(id, done)))
}

/// `GET /admin/users/{id}/unlock`: lift the failed-login blocks.
pub async fn confirm_unlock(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AdminResult {
    let user = load(&state, &id).await?;
    let summary = UserSummary::of(&user);
    Ok(confirm(
        &admin,
        Confirm {
            section: "users",
            title: "Lift the failed-login blocks?",
            message: format!(
                "{} was blocked after too many wrong passwords. Lifting the blocks lets them try again from every address.",
                summary.title
            ),
            action: user_path(&id, "/unlock"),
            button: "Lift the blocks",
            back: summary.path,
        },
    ))
}

/// `POST /admin/users/{id}/unlock`.
pub async fn unlock(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    load(&state, &id).await?;
    user_blocks::delete_for_user(State(state.clone()), MPath(id.clone())).await?;
    changes::record(
        &state,
        &form.admin,
        "DELETE",
        &format!("/user-blocks/{}", encode(&id)),
    )
    .await;
    Ok(see_other(&user_path(&id, "?done=unlocked")))
}

/// `GET /admin/users/{id}/delete`.
pub async fn confirm_delete(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> AdminResult {
    let user = load(&state, &id).await?;
    let summary = UserSummary::of(&user);
    Ok(confirm(
        &admin,
        Confirm {
            section: "users",
            title: "Delete this user?",
            message: format!(
                "{} ({}) will be deleted with their roles and permissions. This cannot be undone.{}",
                summary.title,
                summary.user_id,
                self_warning(&admin, &user)
            ),
            action: user_path(&id, "/delete"),
            button: "Delete user",
            back: summary.path,
        },
    ))
}

/// `POST /admin/users/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    load_outranked(&state, &form.admin, &id).await?;
    users::delete(State(state.clone()), MPath(id.clone())).await?;
    changes::record(
        &state,
        &form.admin,
        "DELETE",
        &format!("/users/{}", encode(&id)),
    )
    .await;
    Ok(see_other("/admin/users?done=deleted"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_are_sent() {
        assert_eq!(changed("Alice".into(), &Some("Alice".into())), None);
        assert_eq!(changed(String::new(), &None), None);
        assert_eq!(changed("Al".into(), &None), Some("Al".into()));
        assert_eq!(
            changed(String::new(), &Some("A".into())),
            Some(String::new())
        );
    }

    #[test]
    fn the_form_shows_what_is_stored() {
        let mut u = User::new("auth0|1", "a@example.com", 0);
        u.app_metadata = serde_json::json!({"plan": "pro"});
        let v = stored_values(&u);
        assert!(v["app_metadata"].contains("\"plan\": \"pro\""));
        assert_eq!(v["user_metadata"], "{}");
        assert!(!v.contains_key("email_verified"));
    }
}
