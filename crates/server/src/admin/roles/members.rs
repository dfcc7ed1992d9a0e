//! A role's Users tab: its members a page at a time (the store pages; no
//! member list is loaded whole), adding a user by email or user id
//! (`roles::assign_users`), and removing one after a confirmation
//! (`user_links::remove_roles`, the Management API's way to take a role
//! from a user).

use super::{header, load, load_outranked};
use crate::admin::apis::m2m::encode;
use crate::admin::changes;
use crate::admin::form::{AdminForm, FieldErrors, Fields};
use crate::admin::listing::{page_number, Pager, PER_PAGE};
use crate::admin::render::{self, page_with_status, AdminError, AdminResult, Confirm};
use crate::admin::session::{not_held_message, role_beyond_admin, Admin};
use crate::routes::management::extract::{MJson, MPath, MQuery};
use crate::routes::management::pagination::Paging;
use crate::routes::management::render::{check_id, FieldsQuery};
use crate::routes::management::roles::{self, UsersBody};
use crate::routes::management::user_links::{self, RolesBody};
use crate::routes::management::users::{self, UserQuery};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gatehouse_core::model::{Role, User};
use gatehouse_store::Page;
use minijinja::context;
use serde::Serialize;
use std::collections::HashMap;

/// A member as listed.
#[derive(Serialize)]
struct Member {
    user_id: String,
    email: Option<String>,
    name: Option<String>,
    remove: String,
}

/// What the "add a user" field holds.
#[derive(Debug, PartialEq)]
pub enum Who {
    Email(String),
    UserId(String),
}

/// Reads the field: an email (has `@`, no `|`), otherwise a user id.
pub fn who(fields: &Fields) -> Result<Who, FieldErrors> {
    let typed = fields.text("user");
    let mut errors = FieldErrors::default();
    if typed.is_empty() {
        errors.add("user", "Enter the user's email or user id.");
    } else if typed.contains(|c: char| c.is_whitespace() || c == '"' || c.is_control()) {
        errors.add(
            "user",
            "Enter one email address or one user id, without spaces or quotes.",
        );
    } else if typed.len() > 255 {
        errors.add("user", "At most 255 characters.");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(if typed.contains('@') && !typed.contains('|') {
        Who::Email(typed)
    } else {
        Who::UserId(typed)
    })
}

/// `GET /admin/roles/{id}/users?page=…`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let role = load(&state, &id).await?;
    let page_no = page_number(query.get("page").map(String::as_str));
    let done = query.get("done").map(String::as_str);
    let ok = StatusCode::OK;
    tab(
        &state,
        &admin,
        ok,
        &role,
        page_no,
        &Fields::default(),
        &FieldErrors::default(),
        done,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn tab(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    role: &Role,
    page_no: u64,
    typed: &Fields,
    errors: &FieldErrors,
    done: Option<&str>,
) -> AdminResult {
    let window = Page {
        offset: i64::try_from(page_no * PER_PAGE).unwrap_or(i64::MAX),
        limit: i64::try_from(PER_PAGE + 1).unwrap_or(i64::MAX),
    };
    let mut users = state.store().role_users(&role.id, window).await?;
    let has_next = users.len() > usize::try_from(PER_PAGE).unwrap_or(usize::MAX);
    users.truncate(usize::try_from(PER_PAGE).unwrap_or(usize::MAX));
    let members: Vec<Member> = users
        .into_iter()
        .map(|s| Member {
            remove: format!(
                "/admin/roles/{}/users/remove?user_id={}",
                role.id,
                encode(&s.user.user_id)
            ),
            user_id: s.user.user_id,
            email: s.user.email,
            name: s.user.name,
        })
        .collect();
    let base = format!("/admin/roles/{}/users", role.id);
    Ok(page_with_status(
        status,
        admin,
        "roles",
        "roles_users.html",
        context! {
            members => members,
            pager => Pager::open_ended(&base, page_no, has_next),
            form => typed.typed(),
            errors => errors,
            ..header(role, "users", done)
        },
    ))
}

/// The user the field names, found with the Management API's user search
/// for an email (several connections may hold the same email).
async fn find_user(state: &AppState, who: Who) -> Result<Result<User, String>, AdminError> {
    match who {
        Who::UserId(id) => {
            let found = match check_id(&id, "id") {
                Ok(()) => state.store().user(&id).await?,
                Err(_) => None,
            };
            Ok(found
                .map(|s| s.user)
                .ok_or_else(|| format!("No user has the id {id}.")))
        }
        Who::Email(email) => {
            let paging = Paging {
                page: Some(0),
                per_page: Some(2),
                include_totals: Some(false),
            };
            let query = UserQuery {
                q: Some(format!("email:\"{email}\"")),
                ..UserQuery::default()
            };
            let found = users::list(
                State(state.clone()),
                MQuery(paging),
                MQuery(query),
                MQuery(FieldsQuery::default()),
            )
            .await?
            .0;
            let ids: Vec<&str> = found
                .as_array()
                .map(|a| a.iter().filter_map(|u| u["user_id"].as_str()).collect())
                .unwrap_or_default();
            match ids.as_slice() {
                [] => Ok(Err(format!("No user has the email {email}."))),
                [id] => Ok(state
                    .store()
                    .user(id)
                    .await?
                    .map(|s| s.user)
                    .ok_or_else(|| format!("No user has the email {email}."))),
                _ => Ok(Err(
                    "Several users have this email (in different connections): enter the user id instead.".into(),
                )),
            }
        }
    }
}

/// `POST /admin/roles/{id}/users`.
pub async fn add(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let role = load(&state, &id).await?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let again = |errors: FieldErrors| {
        let (state, admin, role, fields) = (&state, &admin, &role, &fields);
        async move { tab(state, admin, refused, role, 0, fields, &errors, None).await }
    };
    if let Some(missing) = role_beyond_admin(&admin, &state, &role.id).await? {
        let mut errors = FieldErrors::default();
        errors.add("user", not_held_message(&missing));
        return again(errors).await;
    }
    let who = match who(&fields) {
        Ok(who) => who,
        Err(errors) => return again(errors).await,
    };
    let user = match find_user(&state, who).await? {
        Ok(user) => user,
        Err(message) => {
            let mut errors = FieldErrors::default();
            errors.add("user", message);
            return again(errors).await;
        }
    };
    if state
        .store()
        .user_roles(&user.user_id)
        .await?
        .iter()
        .any(|r| r.id == role.id)
    {
        let mut errors = FieldErrors::default();
        let name = user.email.as_deref().unwrap_or(&user.user_id);
        errors.add("user", format!("{name} already has this role."));
        return again(errors).await;
    }
    let body = UsersBody {
        users: vec![user.user_id.clone()],
    };
    if let Err(e) =
        roles::assign_users(State(state.clone()), MPath(role.id.clone()), MJson(body)).await
    {
        return again(FieldErrors::from_management(&e, &[])).await;
    }
    changes::record(&state, &admin, "POST", &format!("/roles/{}/users", role.id)).await;
    Ok(render::see_other(&format!(
        "/admin/roles/{}/users?done=member_added",
        role.id
    )))
}

/// The member a removal names, who must hold the role.
async fn member(
    state: &AppState,
    role: &Role,
    query: &HashMap<String, String>,
) -> Result<User, AdminError> {
    let gone = || AdminError::not_found("This member of the role");
    let user_id = query.get("user_id").ok_or_else(gone)?;
    check_id(user_id, "user_id").map_err(|_| gone())?;
    let user = state.store().user(user_id).await?.ok_or_else(gone)?;
    let holds = state
        .store()
        .user_roles(user_id)
        .await?
        .iter()
        .any(|r| r.id == role.id);
    if !holds {
        return Err(gone());
    }
    Ok(user.user)
}

/// `GET /admin/roles/{id}/users/remove?user_id=…`.
pub async fn confirm_remove(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> AdminResult {
    let role = load(&state, &id).await?;
    let user = member(&state, &role, &query).await?;
    let name = user.email.clone().unwrap_or_else(|| user.user_id.clone());
    let caveat = super::dashboard_caveat(&state, &role).await?;
    Ok(render::confirm(
        &admin,
        Confirm {
            section: "roles",
            title: "Remove this user from the role?",
            message: format!(
                "{name} loses the role {} and, from their next token on, the permissions it gave them.{caveat}",
                role.name
            ),
            action: format!(
                "/admin/roles/{}/users/remove?user_id={}",
                role.id,
                encode(&user.user_id)
            ),
            button: "Remove user",
            back: format!("/admin/roles/{}/users", role.id),
        },
    ))
}

/// `POST /admin/roles/{id}/users/remove?user_id=…`.
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    form: AdminForm,
) -> AdminResult {
    let role = load_outranked(&state, &form.admin, &id).await?;
    let user = member(&state, &role, &query).await?;
    let body = RolesBody {
        roles: vec![role.id.clone()],
    };
    user_links::remove_roles(
        State(state.clone()),
        MPath(user.user_id.clone()),
        MJson(body),
    )
    .await?;
    changes::record(
        &state,
        &form.admin,
        "DELETE",
        &format!("/users/{}/roles", encode(&user.user_id)),
    )
    .await;
    Ok(render::see_other(&format!(
        "/admin/roles/{}/users?done=member_removed",
        role.id
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_is_an_email_or_a_user_id() {
        let read = |body: &str| who(&Fields::parse(body.as_bytes()));
        assert_eq!(
            read("user=bob%40example.com").unwrap(),
            Who::Email("bob@example.com".into())
        );
        assert_eq!(
            read("user=auth0%7Cabc").unwrap(),
            Who::UserId("auth0|abc".into())
        );
        assert_eq!(
            read("user=email%7Cx%40y").unwrap(),
            Who::UserId("email|x@y".into())
        );
        for bad in ["user=", "user=a+b%40c", "user=a%22%40b"] {
            assert!(read(bad).unwrap_err().fields.contains_key("user"), "{bad}");
        }
    }
}
