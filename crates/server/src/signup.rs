//! Signing up to the database connection: one path for the signup page and
//! `POST /dbconnections/signup`, so both apply the same checks in the same
//! order — signup enabled, a plausible email, the password policy, the
//! pre-user-registration Actions — then create the user, log `ss` and send
//! the verification (or welcome) email the tenant's templates ask for.

use crate::actions::{self, FlowError, RequestFacts};
use crate::audit::{self, codes, Event};
use crate::password::hash_password_blocking;
use crate::routes::management::connections;
use crate::state::AppState;
use gatehouse_core::model::{Client, User};
use gatehouse_core::password_policy::{PasswordPolicy, PersonalInfo, PolicyError};
use gatehouse_store::{StoreError, StoredUser};
use serde_json::json;

/// Auth0's answer when the connection's `disable_signup` is on.
pub const SIGNUP_DISABLED: &str = "public signup is disabled";

/// What a new user gives.
#[derive(Debug, Clone, Default)]
pub struct Signup<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub picture: Option<String>,
    /// String values only, as Auth0 accepts at signup.
    pub user_metadata: serde_json::Map<String, serde_json::Value>,
}

/// Why a signup created nobody.
#[derive(Debug)]
pub enum SignupError {
    Disabled,
    InvalidEmail,
    Password(PolicyError, PasswordPolicy),
    /// A pre-user-registration Action denied it: the message to show.
    Refused(String),
    /// The email is taken in the connection.
    Exists,
    Store(StoreError),
    Internal(String),
}

impl From<StoreError> for SignupError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Creates the user, or says why not; logs `ss`/`fs` and queues the emails.
pub async fn register(
    state: &AppState,
    signup: &Signup<'_>,
    client: Option<&Client>,
    request: &RequestFacts,
) -> Result<User, SignupError> {
    let client_id = client.map(|c| c.client_id.as_str());
    let outcome = create(state, signup, client, request).await;
    match &outcome {
        Ok(user) => {
            log(
                state,
                codes::SIGNUP_OK,
                "",
                client_id,
                Some(user),
                signup.email,
            )
            .await;
            if let Err(e) = crate::email::after_signup(state, user, client_id).await {
                tracing::warn!(error = %e, "could not queue the signup email");
            }
        }
        Err(SignupError::Store(_) | SignupError::Internal(_)) => {}
        Err(e) => {
            log(
                state,
                codes::SIGNUP_FAILED,
                &describe(e),
                client_id,
                None,
                signup.email,
            )
            .await;
        }
    }
    outcome
}

async fn create(
    state: &AppState,
    signup: &Signup<'_>,
    client: Option<&Client>,
    request: &RequestFacts,
) -> Result<User, SignupError> {
    let options = connections::database_options(state).await?;
    if options.disable_signup {
        return Err(SignupError::Disabled);
    }
    if !plausible_email(signup.email) {
        return Err(SignupError::InvalidEmail);
    }
    let policy = options.password_policy();
    let info = PersonalInfo {
        email: signup.email,
        username: None,
        name: signup.name.as_deref(),
        nickname: signup.nickname.as_deref(),
        given_name: signup.given_name.as_deref(),
        family_name: signup.family_name.as_deref(),
    };
    if let Err(e) = policy.check(signup.password, &info) {
        return Err(SignupError::Password(e, policy));
    }
    let tenant = state.store().tenant_settings().await?;
    let now = state.now();
    let mut user = User::new(gatehouse_core::ids::user_id(), signup.email, now);
    user.connection = tenant.default_directory;
    // Auth0 derives name and nickname from the email unless they are given.
    for (field, given) in [
        (&mut user.name, &signup.name),
        (&mut user.nickname, &signup.nickname),
        (&mut user.given_name, &signup.given_name),
        (&mut user.family_name, &signup.family_name),
        (&mut user.picture, &signup.picture),
    ] {
        if given.is_some() {
            field.clone_from(given);
        }
    }
    if !signup.user_metadata.is_empty() {
        user.user_metadata = serde_json::Value::Object(signup.user_metadata.clone());
    }
    let user = match actions::pre_user_registration(state, &user, client, request).await {
        Ok(effects) => actions::with_metadata(user, &effects),
        Err(FlowError::Internal(e)) => return Err(SignupError::Internal(format!("{e:?}"))),
        Err(refused) => {
            return Err(SignupError::Refused(actions::signup_refusal_message(
                &refused,
            )))
        }
    };
    let hash = hash_password_blocking(signup.password.to_string())
        .await
        .map_err(|e| SignupError::Internal(e.to_string()))?;
    let stored = StoredUser {
        user: user.clone(),
        password_hash: Some(hash),
    };
    match state.store().create_user(&stored).await {
        Ok(()) => Ok(user),
        Err(StoreError::Conflict(_)) => Err(SignupError::Exists),
        Err(e) => Err(e.into()),
    }
}

/// The log description of a refusal.
fn describe(error: &SignupError) -> String {
    match error {
        SignupError::Disabled => SIGNUP_DISABLED.into(),
        SignupError::InvalidEmail => "The email address is not valid.".into(),
        SignupError::Password(e, _) => e.message().into(),
        SignupError::Refused(message) => message.clone(),
        SignupError::Exists => "The user already exists.".into(),
        SignupError::Store(e) => e.to_string(),
        SignupError::Internal(e) => e.clone(),
    }
}

async fn log(
    state: &AppState,
    code: &str,
    description: &str,
    client_id: Option<&str>,
    user: Option<&User>,
    email: &str,
) {
    audit::record(
        state,
        Event {
            code,
            description: description.into(),
            client_id,
            user_id: user.map(|u| u.user_id.as_str()),
            user_name: Some(email),
            extra: json!({"connection": gatehouse_core::model::DEFAULT_CONNECTION}),
            ..Event::default()
        },
    )
    .await;
}

/// At most 254 bytes, one `@` with something before it and a dotted domain
/// after, no spaces or control characters.
pub fn plausible_email(email: &str) -> bool {
    email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.contains('@')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_emails() {
        assert!(plausible_email("a@b.co"));
        assert!(!plausible_email("a@b"));
        assert!(!plausible_email("@b.co"));
        assert!(!plausible_email("a b@c.co"));
        assert!(!plausible_email("a@b@c.co"));
        assert!(!plausible_email(&format!("{}@b.co", "a".repeat(260))));
    }
}
