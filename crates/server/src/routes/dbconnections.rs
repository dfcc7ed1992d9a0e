//! Auth0's Authentication API for the database connection (auth0-compat.md
//! §11): `POST /dbconnections/signup` and `POST /dbconnections/change_password`.
//!
//! Both take JSON (what auth0.js and the SDKs send) or a form, are called from
//! browsers (CORS for the client's allowed origins), and answer errors in
//! Auth0's Authentication API shape `{name, code, description, statusCode}`.
//! `change_password` answers the same sentence whether or not the account
//! exists, and does its work after answering, so neither the reply nor its
//! timing tells.

use crate::actions::RequestFacts;
use crate::audit::{self, codes, Event};
use crate::cors;
use crate::extract::{counted_ip, Params, PeerIp};
use crate::rate_limit::{Bucket, Hit, RateLimiter, Throttled};
use crate::signup::{self, Signup, SignupError};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::model::{Client, DEFAULT_CONNECTION};
use gatehouse_mail::templates::RESET_EMAIL;
use serde_json::{json, Map, Value};

/// What `change_password` always answers.
pub const RESET_EMAIL_SENT: &str = "We've just sent you an email to reset your password.";
/// The most properties `user_metadata` may have at signup (Auth0's limit).
const MAX_METADATA_PROPERTIES: usize = 10;
/// The longest string value in `user_metadata` at signup (Auth0's limit).
const MAX_METADATA_VALUE_CHARS: usize = 500;
/// The longest profile field.
const MAX_PROFILE_CHARS: usize = 300;

/// An Authentication API error: `{name, code, description, statusCode}`.
fn auth_error(status: StatusCode, name: &str, code: &str, description: &str) -> Response {
    let body = json!({
        "name": name,
        "code": code,
        "description": description,
        "statusCode": status.as_u16(),
    });
    (status, Json(body)).into_response()
}

fn bad_request(code: &str, description: &str) -> Response {
    auth_error(
        StatusCode::BAD_REQUEST,
        "BadRequestError",
        code,
        description,
    )
}

/// A refused request body, kept small until it becomes the 400 response.
#[derive(Debug)]
struct BadRequest {
    code: &'static str,
    description: String,
}

fn invalid(code: &'static str, description: impl Into<String>) -> BadRequest {
    BadRequest {
        code,
        description: description.into(),
    }
}

impl From<BadRequest> for Response {
    fn from(e: BadRequest) -> Self {
        bad_request(e.code, &e.description)
    }
}

/// The request body as a JSON object: JSON as sent, or a form's fields as strings.
fn body_object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, BadRequest> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if is_json {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(invalid(
                "invalid_request",
                "The request body must be a JSON object.",
            )),
        }
    } else {
        let params =
            Params::from_form(body).map_err(|e| invalid("invalid_request", e.error_description))?;
        Ok(params
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect())
    }
}

/// A string field: absent is `None`, anything but a string is refused.
fn string_field<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, BadRequest> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid(
            "invalid_request",
            format!("{name} must be a string"),
        )),
    }
}

fn required<'a>(body: &'a Map<String, Value>, name: &str) -> Result<&'a str, BadRequest> {
    match string_field(body, name)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(invalid(
            "invalid_request",
            format!("Missing required parameter: {name}"),
        )),
    }
}

/// The client named by `client_id`, and the connection must be the database one.
async fn client_and_connection(
    state: &AppState,
    body: &Map<String, Value>,
) -> Result<Client, Response> {
    let client_id = required(body, "client_id")?;
    let connection = required(body, "connection")?;
    let client = match state.store().client(client_id).await {
        Ok(Some(stored)) => stored.client,
        Ok(None) => return Err(bad_request("invalid_client", "Unknown client.")),
        Err(e) => return Err(crate::error::ApiError::from(e).into_response()),
    };
    if connection != DEFAULT_CONNECTION {
        return Err(bad_request(
            "invalid_connection",
            &format!("The connection does not exist: {connection}"),
        ));
    }
    Ok(client)
}

fn with_cors(mut response: Response, headers: &HeaderMap, client: Option<&Client>) -> Response {
    let origin = cors::request_origin(headers);
    cors::allow(&mut response, origin.as_deref(), client);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn throttled_response(throttled: &Throttled) -> Response {
    throttled.oauth_response()
}

/// `POST /dbconnections/signup`.
pub async fn signup(
    State(state): State<AppState>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match run_signup(&state, peer, &headers, &body).await {
        Ok((response, client)) => with_cors(response, &headers, Some(&client)),
        Err((response, client)) => with_cors(response, &headers, client.as_ref()),
    }
}

type Outcome = Result<(Response, Client), (Response, Option<Client>)>;

async fn run_signup(
    state: &AppState,
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    body: &[u8],
) -> Outcome {
    let body = body_object(headers, body).map_err(|r| (r.into(), None))?;
    let client = client_and_connection(state, &body)
        .await
        .map_err(|r| (r, None))?;
    let fail = |r: Response| (r, Some(client.clone()));
    let ip = counted_ip(peer);
    let limiter = RateLimiter::load(state, Some(&client.client_id), state.now())
        .await
        .map_err(|e| fail(crate::error::ApiError::from(e).into_response()))?;
    match limiter.hit(Bucket::SignupsFromIp(&ip)).await {
        Ok(Hit::Over(throttled)) => return Err(fail(throttled_response(&throttled))),
        Ok(Hit::Within(_)) => {}
        Err(e) => return Err(fail(crate::error::ApiError::from(e).into_response())),
    }
    let signup = read_signup(&body).map_err(|e| fail(e.into()))?;
    let request = RequestFacts::post(&form_params(&body));
    let tenant = state
        .store()
        .tenant_settings()
        .await
        .map_err(|e| fail(crate::error::ApiError::from(e).into_response()))?;
    match signup::register(state, &signup, Some(&client), &request).await {
        Ok(user) => {
            let mut reply = json!({
                "_id": user.user_id.strip_prefix("auth0|").unwrap_or(&user.user_id),
                "email": user.email,
                "email_verified": user.email_verified,
            });
            for (name, value) in [
                ("given_name", &signup.given_name),
                ("family_name", &signup.family_name),
                ("name", &signup.name),
                ("nickname", &signup.nickname),
                ("picture", &signup.picture),
            ] {
                if let Some(value) = value {
                    reply[name] = json!(value);
                }
            }
            if !signup.user_metadata.is_empty() {
                reply["user_metadata"] = Value::Object(signup.user_metadata.clone());
            }
            Ok(((StatusCode::OK, Json(reply)).into_response(), client))
        }
        Err(e) => Err(fail(signup_error_response(
            e,
            tenant.flags.enable_public_signup_user_exists_error,
        ))),
    }
}

fn signup_error_response(error: SignupError, user_exists_error: bool) -> Response {
    match error {
        SignupError::Disabled => bad_request("operation_not_allowed", signup::SIGNUP_DISABLED),
        SignupError::InvalidEmail => bad_request("invalid_signup", "Invalid sign up"),
        SignupError::Password(e, policy) => (
            StatusCode::BAD_REQUEST,
            Json(e.authentication_api_body(&policy)),
        )
            .into_response(),
        SignupError::Refused(message) => bad_request("invalid_signup", &message),
        SignupError::Exists if user_exists_error => {
            bad_request("user_exists", "The user already exists.")
        }
        SignupError::Exists => bad_request("invalid_signup", "Invalid sign up"),
        SignupError::Store(e) => crate::error::ApiError::from(e).into_response(),
        SignupError::Internal(e) => crate::error::ApiError::internal(e).into_response(),
    }
}

/// The signup fields, bounded.
fn read_signup(body: &Map<String, Value>) -> Result<Signup<'_>, BadRequest> {
    let email = required(body, "email")?.trim();
    let password = required(body, "password")?;
    if string_field(body, "username")?.is_some_and(|u| !u.is_empty()) {
        return Err(invalid(
            "invalid_signup",
            "This connection does not use usernames.",
        ));
    }
    let profile = |name: &str| -> Result<Option<String>, BadRequest> {
        match string_field(body, name)? {
            Some(v) if v.chars().count() > MAX_PROFILE_CHARS => Err(invalid(
                "invalid_signup",
                format!("{name} is too long (at most {MAX_PROFILE_CHARS} characters)"),
            )),
            Some(v) if !v.is_empty() => Ok(Some(v.to_string())),
            _ => Ok(None),
        }
    };
    Ok(Signup {
        email,
        password,
        name: profile("name")?,
        nickname: profile("nickname")?,
        given_name: profile("given_name")?,
        family_name: profile("family_name")?,
        picture: profile("picture")?,
        user_metadata: read_metadata(body.get("user_metadata"))?,
    })
}

/// `user_metadata` at signup: an object of at most 10 string values of at
/// most 500 characters (Auth0's rule).
fn read_metadata(value: Option<&Value>) -> Result<Map<String, Value>, BadRequest> {
    let refused = |why: &str| invalid("invalid_signup", format!("user_metadata {why}"));
    let map = match value {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(map)) => map.clone(),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => return Err(refused("must be an object")),
        },
        Some(_) => return Err(refused("must be an object")),
    };
    if map.len() > MAX_METADATA_PROPERTIES {
        return Err(refused("may have at most 10 properties"));
    }
    for value in map.values() {
        match value {
            Value::String(s) if s.chars().count() <= MAX_METADATA_VALUE_CHARS => {}
            Value::String(_) => return Err(refused("values may have at most 500 characters")),
            _ => return Err(refused("values must be strings")),
        }
    }
    Ok(map)
}

/// The string fields as [`Params`], for the Actions' `event.request.body`.
fn form_params(body: &Map<String, Value>) -> Params {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in body {
        if let Value::String(s) = value {
            if name != "password" {
                form.append_pair(name, s);
            }
        }
    }
    Params::from_form(form.finish().as_bytes()).unwrap_or_default()
}

/// `POST /dbconnections/change_password`.
pub async fn change_password(
    State(state): State<AppState>,
    PeerIp(peer): PeerIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (response, client) = match run_change_password(&state, peer, &headers, &body).await {
        Ok(client) => (sent_reply(), Some(client)),
        Err((response, client)) => (response, client),
    };
    with_cors(response, &headers, client.as_ref())
}

/// The one answer, account or not.
fn sent_reply() -> Response {
    let mut response = (StatusCode::OK, RESET_EMAIL_SENT).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

async fn run_change_password(
    state: &AppState,
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Client, (Response, Option<Client>)> {
    let body = body_object(headers, body).map_err(|r| (r.into(), None))?;
    let client = client_and_connection(state, &body)
        .await
        .map_err(|r| (r, None))?;
    let fail = |r: Response| (r, Some(client.clone()));
    let email = required(&body, "email")
        .map_err(|e| fail(e.into()))?
        .trim()
        .to_string();
    if !signup::plausible_email(&email) {
        return Err(fail(bad_request(
            "invalid_request",
            "The email address is not valid.",
        )));
    }
    if string_field(&body, "organization")
        .map_err(|e| fail(e.into()))?
        .is_some_and(|o| !o.is_empty())
    {
        return Err(fail(bad_request(
            "invalid_request",
            "Gatehouse has no organizations.",
        )));
    }
    let ip = counted_ip(peer);
    request_reset_email(state, &ip, &email, Some(&client.client_id))
        .await
        .map_err(fail)?;
    Ok(client)
}

/// Counts the request against the IP's and the address's email limits, then
/// queues the reset email in the background (so the reply's timing does not
/// tell whether the account exists). Shared with the "Forgot your password?" page.
pub async fn request_reset_email(
    state: &AppState,
    ip: &str,
    email: &str,
    client_id: Option<&str>,
) -> Result<(), Response> {
    let address = email.to_lowercase();
    let limiter = RateLimiter::load(state, client_id, state.now())
        .await
        .map_err(|e| crate::error::ApiError::from(e).into_response())?;
    for bucket in [Bucket::EmailsFromIp(ip), Bucket::EmailsToAddress(&address)] {
        match limiter.hit(bucket).await {
            Ok(Hit::Over(throttled)) => return Err(throttled_response(&throttled)),
            Ok(Hit::Within(_)) => {}
            Err(e) => return Err(crate::error::ApiError::from(e).into_response()),
        }
    }
    let state = state.clone();
    let (email, client_id) = (email.to_string(), client_id.map(str::to_string));
    tokio::spawn(async move {
        if let Err(e) = queue_reset_email(&state, &email, client_id.as_deref()).await {
            tracing::warn!(error = %e, "could not queue a password reset email");
        }
    });
    Ok(())
}

async fn queue_reset_email(
    state: &AppState,
    email: &str,
    client_id: Option<&str>,
) -> Result<(), gatehouse_store::StoreError> {
    let tenant = state.store().tenant_settings().await?;
    let user = state
        .store()
        .user_by_email(&tenant.default_directory, email)
        .await?;
    let refusal = match &user {
        None => Some("User does not exist"),
        Some(stored) if stored.user.blocked => Some("The user is blocked"),
        Some(_) => None,
    };
    if let Some(description) = refusal {
        audit::record(
            state,
            Event {
                code: codes::PASSWORD_CHANGE_REQUEST_FAILED,
                description: description.into(),
                client_id,
                user_id: user.as_ref().map(|u| u.user.user_id.as_str()),
                user_name: Some(email),
                extra: json!({"email": email}),
                ..Event::default()
            },
        )
        .await;
        return Ok(());
    }
    let Some(stored) = user else { return Ok(()) };
    crate::email::send_to(state, RESET_EMAIL, &stored.user, client_id).await
}
