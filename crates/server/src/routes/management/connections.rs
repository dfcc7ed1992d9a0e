//! `/api/v2/connections`: the one built-in database connection,
//! `Username-Password-Authentication` (auth0-compat.md §8), enabled for
//! every client. Of Auth0's connection `options`, `disable_signup` and the
//! password policy (`passwordPolicy`, `password_complexity_options`,
//! `password_no_personal_info`, `password_dictionary`) can be changed
//! (`PATCH /connections/{id}`); the options live in the store's server
//! values, shared by all nodes.

use super::error::{ManagementError, MgmtResult};
use super::extract::{MJson, MPath, MQuery};
use super::pagination::{paginate, Paging};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use gatehouse_core::model::DEFAULT_CONNECTION;
use gatehouse_core::password_policy::{PasswordPolicy, Strength};
use gatehouse_store::{server_values, Page, Store, StoreError};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The built-in connection's fixed id.
pub const DEFAULT_CONNECTION_ID: &str = "con_Gatehouse0Database";

#[derive(Debug, Default, Deserialize)]
pub struct ConnectionFilter {
    pub name: Option<String>,
    pub strategy: Option<String>,
}

/// The database connection's changeable options, stored with Auth0's names.
/// A key missing from the stored JSON (written before it existed) takes
/// Gatehouse's default; a `null` one is Auth0's unset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionOptions {
    /// Refuse new users from the signup page.
    pub disable_signup: bool,
    /// `passwordPolicy`; `null` is `none`, as in Auth0.
    #[serde(rename = "passwordPolicy")]
    pub strength: Option<Strength>,
    pub password_complexity_options: Option<ComplexityOptions>,
    pub password_no_personal_info: Option<NoPersonalInfo>,
    pub password_dictionary: Option<DictionaryOptions>,
}

/// `password_complexity_options`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ComplexityOptions {
    /// Overrides the level's minimum length (1 to 128).
    pub min_length: Option<u32>,
}

/// `password_no_personal_info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NoPersonalInfo {
    pub enable: bool,
}

/// `password_dictionary`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DictionaryOptions {
    /// Refuse the common passwords Gatehouse knows and `dictionary`.
    pub enable: bool,
    /// The tenant's own refused passwords, compared ignoring case.
    pub dictionary: Vec<String>,
}

/// Auth0's limits on `password_dictionary.dictionary`.
pub const MAX_DICTIONARY_WORDS: usize = 200;
/// See [`MAX_DICTIONARY_WORDS`].
pub const MAX_DICTIONARY_WORD_CHARS: usize = 50;
/// The range of `password_complexity_options.min_length`.
pub const MIN_LENGTH_RANGE: std::ops::RangeInclusive<u32> = 1..=128;

impl Default for ConnectionOptions {
    /// Signup open and [`PasswordPolicy::default`].
    fn default() -> Self {
        let policy = PasswordPolicy::default();
        Self {
            disable_signup: false,
            strength: Some(policy.strength),
            password_complexity_options: Some(ComplexityOptions {
                min_length: policy.min_length,
            }),
            password_no_personal_info: Some(NoPersonalInfo {
                enable: policy.no_personal_info,
            }),
            password_dictionary: Some(DictionaryOptions {
                enable: policy.dictionary,
                dictionary: policy.dictionary_words,
            }),
        }
    }
}

impl ConnectionOptions {
    /// The policy a new password of this connection must meet.
    pub fn password_policy(&self) -> PasswordPolicy {
        let dictionary = self.password_dictionary.as_ref();
        PasswordPolicy {
            strength: self.strength.unwrap_or(Strength::None),
            min_length: self
                .password_complexity_options
                .as_ref()
                .and_then(|c| c.min_length),
            no_personal_info: self
                .password_no_personal_info
                .as_ref()
                .is_some_and(|o| o.enable),
            dictionary: dictionary.is_some_and(|d| d.enable),
            dictionary_words: dictionary.map(|d| d.dictionary.clone()).unwrap_or_default(),
        }
    }
}

/// The database connection's options as stored (defaults when never set).
pub async fn database_options(state: &AppState) -> Result<ConnectionOptions, StoreError> {
    stored_options(state.store()).await
}

/// [`database_options`] straight from a store (the CLI, the bootstrap).
pub async fn stored_options(store: &dyn Store) -> Result<ConnectionOptions, StoreError> {
    match store
        .server_value(server_values::DATABASE_CONNECTION_OPTIONS)
        .await?
    {
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("connection options: {e}"))),
        None => Ok(ConnectionOptions::default()),
    }
}

/// `PATCH /connections/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConnection {
    pub options: Option<UpdateOptions>,
}

/// `options` in `PATCH /connections/{id}`: the options Gatehouse acts on.
/// Each one given replaces the stored one; `null` unsets it, as in Auth0.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOptions {
    pub disable_signup: Option<bool>,
    /// One of none, low, fair, good, excellent; `null` is none.
    #[serde(rename = "passwordPolicy", default, deserialize_with = "given")]
    #[schema(value_type = Option<String>)]
    pub password_policy: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<ComplexityOptions>)]
    pub password_complexity_options: Option<Option<ComplexityOptions>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<NoPersonalInfo>)]
    pub password_no_personal_info: Option<Option<NoPersonalInfo>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<DictionaryOptions>)]
    pub password_dictionary: Option<Option<DictionaryOptions>>,
}

/// Tells a key given as `null` (`Some(None)`) from a missing one (`None`).
fn given<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

impl UpdateOptions {
    /// Checks the values against Auth0's limits and applies them.
    fn apply(self, options: &mut ConnectionOptions) -> MgmtResult<()> {
        if let Some(level) = self.password_policy {
            options.strength = level.as_deref().map(parse_strength).transpose()?;
        }
        if let Some(complexity) = self.password_complexity_options {
            if let Some(min) = complexity.as_ref().and_then(|c| c.min_length) {
                check_min_length(min)?;
            }
            options.password_complexity_options = complexity;
        }
        if let Some(no_personal_info) = self.password_no_personal_info {
            options.password_no_personal_info = no_personal_info;
        }
        if let Some(dictionary) = self.password_dictionary {
            if let Some(d) = &dictionary {
                check_dictionary(&d.dictionary)?;
            }
            options.password_dictionary = dictionary;
        }
        if let Some(disable_signup) = self.disable_signup {
            options.disable_signup = disable_signup;
        }
        Ok(())
    }
}

fn parse_strength(level: &str) -> MgmtResult<Strength> {
    serde_json::from_value(Value::String(level.to_string())).map_err(|_| {
        ManagementError::invalid_body(format!(
            "Payload validation error: 'No enum match for: {level:?}' on property \
             options.passwordPolicy (none, low, fair, good or excellent)."
        ))
    })
}

fn check_min_length(min: u32) -> MgmtResult<()> {
    let bound = if min < *MIN_LENGTH_RANGE.start() {
        format!("Must have a minimum value of {}", MIN_LENGTH_RANGE.start())
    } else if min > *MIN_LENGTH_RANGE.end() {
        format!("Must have a maximum value of {}", MIN_LENGTH_RANGE.end())
    } else {
        return Ok(());
    };
    Err(ManagementError::invalid_body(format!(
        "Payload validation error: '{bound}' on property \
         options.password_complexity_options.min_length (Minimum password length)."
    )))
}

fn check_dictionary(words: &[String]) -> MgmtResult<()> {
    if words.len() > MAX_DICTIONARY_WORDS {
        return Err(ManagementError::invalid_body(format!(
            "Payload validation error: 'Array is too long ({}), maximum {MAX_DICTIONARY_WORDS}' \
             on property options.password_dictionary.dictionary.",
            words.len()
        )));
    }
    if let Some(word) = words
        .iter()
        .find(|w| w.chars().count() > MAX_DICTIONARY_WORD_CHARS)
    {
        return Err(ManagementError::invalid_body(format!(
            "Payload validation error: 'String is too long ({} chars), maximum \
             {MAX_DICTIONARY_WORD_CHARS}' on property options.password_dictionary.dictionary.",
            word.chars().count()
        )));
    }
    Ok(())
}

/// A connection as the Management API renders it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Connection {
    pub id: String,
    pub name: String,
    /// Always `auth0` (a database connection).
    pub strategy: String,
    /// Every client: the connection is enabled for all of them.
    pub enabled_clients: Vec<String>,
    pub realms: Vec<String>,
    pub is_domain_connection: bool,
    pub options: ConnectionOptionsView,
}

/// A connection's `options`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConnectionOptions)]
pub struct ConnectionOptionsView {
    /// Always on.
    pub brute_force_protection: bool,
    pub disable_signup: bool,
    #[serde(rename = "passwordPolicy")]
    #[schema(value_type = Option<String>)]
    pub password_policy: Option<Strength>,
    pub password_complexity_options: Option<ComplexityOptions>,
    pub password_no_personal_info: Option<NoPersonalInfo>,
    pub password_dictionary: Option<DictionaryOptions>,
}

async fn builtin(state: &AppState) -> MgmtResult<Value> {
    let options = database_options(state).await?;
    let clients: Vec<String> = state
        .store()
        .clients(Page::ALL)
        .await?
        .into_iter()
        .map(|c| c.client.client_id)
        .collect();
    let connection = Connection {
        id: DEFAULT_CONNECTION_ID.into(),
        name: DEFAULT_CONNECTION.into(),
        strategy: "auth0".into(),
        enabled_clients: clients,
        realms: vec![DEFAULT_CONNECTION.into()],
        is_domain_connection: false,
        options: ConnectionOptionsView {
            brute_force_protection: true,
            disable_signup: options.disable_signup,
            password_policy: options.strength,
            password_complexity_options: options.password_complexity_options,
            password_no_personal_info: options.password_no_personal_info,
            password_dictionary: options.password_dictionary,
        },
    };
    serde_json::to_value(connection).map_err(ManagementError::internal)
}

pub async fn list(
    State(state): State<AppState>,
    MQuery(paging): MQuery<Paging>,
    MQuery(filter): MQuery<ConnectionFilter>,
) -> MgmtResult<Json<Value>> {
    let window = paging.window()?;
    let matches = filter
        .name
        .as_deref()
        .is_none_or(|n| n == DEFAULT_CONNECTION)
        && filter.strategy.as_deref().is_none_or(|s| s == "auth0");
    let all = if matches {
        vec![builtin(&state).await?]
    } else {
        Vec::new()
    };
    Ok(Json(paginate(all, window, "connections")))
}

fn check_id(id: &str) -> MgmtResult<()> {
    if id != DEFAULT_CONNECTION_ID {
        return Err(ManagementError::not_found(
            "The connection does not exist",
            "inexistent_connection",
        ));
    }
    Ok(())
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<Value>> {
    check_id(&id)?;
    Ok(Json(builtin(&state).await?))
}

pub async fn update(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<UpdateConnection>,
) -> MgmtResult<Json<Value>> {
    check_id(&id)?;
    let mut options = database_options(&state).await?;
    if let Some(update) = body.options {
        update.apply(&mut options)?;
    }
    let text = serde_json::to_string(&options).map_err(ManagementError::internal)?;
    state
        .store()
        .put_server_value(server_values::DATABASE_CONNECTION_OPTIONS, &text)
        .await?;
    Ok(Json(builtin(&state).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_default_options_are_the_default_policy() {
        assert_eq!(
            ConnectionOptions::default().password_policy(),
            PasswordPolicy::default()
        );
        let old: ConnectionOptions = serde_json::from_str(r#"{"disable_signup":true}"#).unwrap();
        assert!(old.disable_signup);
        assert_eq!(old.password_policy(), PasswordPolicy::default());
    }

    #[test]
    fn null_options_are_auth0s_unset() {
        let options: ConnectionOptions = serde_json::from_value(json!({
            "passwordPolicy": null,
            "password_complexity_options": null,
            "password_no_personal_info": null,
            "password_dictionary": null,
        }))
        .unwrap();
        let policy = options.password_policy();
        assert_eq!(policy.strength, Strength::None);
        assert_eq!(policy.min_length, None);
        assert!(!policy.no_personal_info && !policy.dictionary);
    }

    #[test]
    fn updates_apply_only_what_is_given() {
        let mut options = ConnectionOptions::default();
        let update: UpdateOptions = serde_json::from_value(json!({
            "passwordPolicy": "good",
            "password_dictionary": {"enable": true, "dictionary": ["acme"]},
        }))
        .unwrap();
        update.apply(&mut options).unwrap();
        let policy = options.password_policy();
        assert_eq!(policy.strength, Strength::Good);
        assert_eq!(policy.min_length, Some(8));
        assert_eq!(policy.dictionary_words, vec!["acme".to_string()]);
        let bad: UpdateOptions =
            serde_json::from_value(json!({"password_complexity_options": {"min_length": 0}}))
                .unwrap();
        assert!(bad.apply(&mut options).is_err());
    }
}
