//! `/admin/users`: the search (the Management API's `q` syntax, run by its
//! own `users::list`), the results a page of 50 at a time, and the form that
//! creates a user.

use super::super::changes;
use super::super::form::{AdminForm, FieldErrors};
use super::super::render::{page_with_status, see_other, AdminResult};
use super::super::session::Admin;
use super::checks::{check_email, check_password, user_error};
use super::{done_notice, encode, short_iso, UserSummary};
use crate::routes::management::connections;
use crate::routes::management::extract::{MJson, MQuery};
use crate::routes::management::pagination::Paging;
use crate::routes::management::render::FieldsQuery;
use crate::routes::management::users::{self, CreateUser, UserQuery};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use gatehouse_core::model::{User, DEFAULT_CONNECTION};
use gatehouse_core::redact::Secret;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Users per page (the Management API's maximum).
const PER_PAGE: u64 = 50;

/// The query string of the list.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<String>,
    done: Option<String>,
}

/// The pager under the results.
#[derive(Debug, Serialize)]
struct Pager {
    first: u64,
    last: u64,
    total: u64,
    previous: Option<String>,
    next: Option<String>,
}

/// `GET /admin/users`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> AdminResult {
    let q = query.q.trim().to_string();
    let page_index = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0)
        .min(u64::MAX / PER_PAGE - 1);
    let found = users::list(
        State(state.clone()),
        MQuery(Paging {
            page: Some(page_index),
            per_page: Some(PER_PAGE),
            include_totals: Some(true),
        }),
        MQuery(UserQuery {
            q: Some(q.clone()).filter(|q| !q.is_empty()),
            ..UserQuery::default()
        }),
        MQuery(FieldsQuery::default()),
    )
    .await;
    let (rows, pager, search_error) = match found {
        Ok(axum::Json(body)) => {
            let (rows, total) = rows_of(&body);
            (rows, pager(&q, page_index, total), None)
        }
        Err(e) if e.status.is_client_error() => (Vec::new(), None, Some(e.message)),
        Err(e) => return Err(e.into()),
    };
    // htmx swaps only 2xx answers, so a refused search typed in the box
    // stays 200 there; a plain GET says 400.
    let status = if search_error.is_some() && !headers.contains_key("hx-request") {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(page_with_status(
        status,
        &admin,
        "users",
        "users_list.html",
        context! {
            q => q,
            rows => rows,
            pager => pager,
            search_error => search_error,
            notice => done_notice(query.done.as_deref()),
        },
    ))
}

/// The users of a `users::list` reply with totals, and the total.
fn rows_of(body: &Value) -> (Vec<UserSummary>, u64) {
    let rows = body["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(summary_of_view)
        .collect();
    (rows, body["total"].as_u64().unwrap_or(0))
}

/// A row from the API's JSON rendering of a user (times as ISO strings).
fn summary_of_view(v: &Value) -> Option<UserSummary> {
    let text = |k: &str| v[k].as_str().map(str::to_string);
    let mut user = User::new(text("user_id")?, "", 0);
    user.email = text("email");
    user.name = text("name");
    user.blocked = v["blocked"].as_bool().unwrap_or(false);
    user.email_verified = v["email_verified"].as_bool().unwrap_or(false);
    user.logins_count = v["logins_count"].as_i64().unwrap_or(0);
    let mut summary = UserSummary::of(&user);
    summary.last_login = text("last_login").map(|t| short_iso(&t));
    Some(summary)
}

fn pager(q: &str, index: u64, total: u64) -> Option<Pager> {
    if total == 0 {
        return None;
    }
    let link = |i: u64| {
        let mut path = format!("/admin/users?page={i}");
        if !q.is_empty() {
            path.push_str(&format!("&q={}", encode(q)));
        }
        path
    };
    let first = index * PER_PAGE + 1;
    Some(Pager {
        first: first.min(total),
        last: (index * PER_PAGE + PER_PAGE).min(total),
        total,
        previous: (index > 0).then(|| link(index.saturating_sub(1).min(total / PER_PAGE))),
        next: (first + PER_PAGE <= total).then(|| link(index + 1)),
    })
}

/// The create form's fields, as shown.
const CREATE_FIELDS: &[&str] = &[
    "email",
    "password",
    "connection",
    "name",
    "given_name",
    "family_name",
    "nickname",
];

/// `GET /admin/users/new`.
pub async fn new(admin: Admin) -> AdminResult {
    Ok(create_form(
        StatusCode::OK,
        &admin,
        BTreeMap::from([("connection".to_string(), DEFAULT_CONNECTION.to_string())]),
        FieldErrors::default(),
    ))
}

fn create_form(
    status: StatusCode,
    admin: &Admin,
    typed: BTreeMap<String, String>,
    errors: FieldErrors,
) -> axum::response::Response {
    page_with_status(
        status,
        admin,
        "users",
        "users_new.html",
        context! {
            v => typed,
            errors => errors,
            connections => vec![(DEFAULT_CONNECTION, DEFAULT_CONNECTION)],
        },
    )
}

/// `POST /admin/users/new`.
pub async fn create(State(state): State<AppState>, form: AdminForm) -> AdminResult {
    let AdminForm { admin, fields } = form;
    let email = fields.text("email");
    let password = fields.get("password").unwrap_or("").to_string();
    let mut errors = FieldErrors::default();
    check_email(&mut errors, "email", &email);
    let policy = connections::database_options(&state)
        .await?
        .password_policy();
    check_password(&mut errors, "password", &password, &policy);
    let mut typed = fields.typed();
    typed.remove("password");
    if !errors.is_empty() {
        return Ok(create_form(
            StatusCode::UNPROCESSABLE_ENTITY,
            &admin,
            typed,
            errors,
        ));
    }
    let body = CreateUser {
        connection: Some(fields.text("connection")),
        email: Some(email),
        password: Some(Secret::new(password)),
        user_id: None,
        email_verified: Some(fields.checked("email_verified")),
        verify_email: None,
        name: fields.opt("name"),
        nickname: fields.opt("nickname"),
        given_name: fields.opt("given_name"),
        family_name: fields.opt("family_name"),
        picture: None,
        blocked: None,
        app_metadata: None,
        user_metadata: None,
    };
    match users::create(State(state.clone()), MJson(body)).await {
        Ok((_, axum::Json(created))) => {
            let id = created["user_id"].as_str().unwrap_or_default().to_string();
            changes::record(&state, &admin, "POST", "/users").await;
            Ok(see_other(&super::user_path(&id, "?done=created")))
        }
        Err(e) if !e.status.is_server_error() => Ok(create_form(
            StatusCode::UNPROCESSABLE_ENTITY,
            &admin,
            typed,
            user_error(&e, CREATE_FIELDS),
        )),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_link_back_and_forth_with_the_query() {
        let p = pager("name:ali*", 1, 120).unwrap();
        assert_eq!((p.first, p.last, p.total), (51, 100, 120));
        assert_eq!(
            p.previous.as_deref(),
            Some("/admin/users?page=0&q=name%3Aali%2A")
        );
        assert_eq!(
            p.next.as_deref(),
            Some("/admin/users?page=2&q=name%3Aali%2A")
        );
        let last = pager("", 2, 120).unwrap();
        assert_eq!(last.next, None);
        assert!(pager("", 0, 0).is_none());
        let past = pager("", 9, 10).unwrap();
        assert_eq!(past.previous.as_deref(), Some("/admin/users?page=0"));
    }

    #[test]
    fn rows_come_from_the_api_reply() {
        let body = json!({"total": 1, "users": [{
            "user_id": "auth0|1", "email": "a@example.com", "blocked": true,
            "logins_count": 3, "last_login": "2026-12-07T13:10:00.000Z"
        }]});
        let (rows, total) = rows_of(&body);
        assert_eq!(total, 1);
        assert!(rows[0].blocked);
        assert_eq!(rows[0].last_login.as_deref(), Some("2026-12-07 13:10 UTC"));
        assert_eq!(rows[0].path, "/admin/users/auth0%7C1");
    }
}
