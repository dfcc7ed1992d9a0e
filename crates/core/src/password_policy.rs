//! The database connection's password policy, as Auth0 defines it: a
//! strength level (`passwordPolicy`: none, low, fair, good, excellent), an
//! optional minimum length (`password_complexity_options.min_length`), no
//! personal information (`password_no_personal_info`) and a dictionary of
//! refused passwords (`password_dictionary`). Signup (page and
//! `/dbconnections/signup`), the password reset page, the Management API and
//! the CLI all check a new password here, so they refuse with the same words.
//!
//! Length counts characters (Unicode scalar values), not bytes. The upper
//! bound [`MAX_PASSWORD_BYTES`] caps the argon2id input.

use serde::{Deserialize, Serialize};

/// The most bytes a password may have.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Auth0's `passwordPolicy` levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// At least 1 character.
    None,
    /// At least 6 characters.
    #[default]
    Low,
    /// At least 8 characters with lower case, upper case and numbers.
    Fair,
    /// At least 8 characters with 3 of: lower, upper, numbers, special.
    Good,
    /// At least 10 characters with 3 of the 4 kinds and no more than 2
    /// identical characters in a row.
    Excellent,
}

/// A connection's whole password policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// The level (`passwordPolicy`).
    pub strength: Strength,
    /// Overrides the level's minimum length (1–128).
    pub min_length: Option<u32>,
    /// Refuse passwords that contain the user's name, username, nickname or
    /// the part of the email before the `@`.
    pub no_personal_info: bool,
    /// Refuse the common passwords Gatehouse knows, and `dictionary_words`.
    pub dictionary: bool,
    /// The tenant's own refused words (`password_dictionary.dictionary`).
    pub dictionary_words: Vec<String>,
}

impl Default for PasswordPolicy {
    /// Gatehouse's default: `low` with at least 8 characters and the
    /// dictionary on (length and a blocklist rather than composition rules).
    fn default() -> Self {
        Self {
            strength: Strength::Low,
            min_length: Some(8),
            no_personal_info: false,
            dictionary: true,
            dictionary_words: Vec::new(),
        }
    }
}

/// What the policy knows about the user whose password it checks.
#[derive(Debug, Clone, Copy, Default)]
#[allow(missing_docs)]
pub struct PersonalInfo<'a> {
    pub email: &'a str,
    pub username: Option<&'a str>,
    pub name: Option<&'a str>,
    pub nickname: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
}

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// Fails the strength rules; `rules` is Auth0's `description.rules`.
    TooWeak {
        /// Each rule with `verified`, as Auth0 reports them.
        rules: serde_json::Value,
    },
    /// In the dictionary.
    TooCommon,
    /// Contains the user's personal information.
    PersonalInfo,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    TooLong,
}

impl PasswordPolicy {
    /// Checks a new password; the first failing rule group decides the error
    /// (length cap, then strength, then personal information, then dictionary).
    pub fn check(&self, password: &str, user: &PersonalInfo<'_>) -> Result<(), PolicyError> {
        let _ = (password, user);
        todo!("helper: Auth0's rules")
    }

    /// Auth0's `policy` text: one `* ` line per rule, items indented
    /// (`* At least 8 characters in length`).
    pub fn describe(&self) -> String {
        todo!("helper")
    }

    /// The same rules as short sentences, for the pages' hint under the field.
    pub fn rule_lines(&self) -> Vec<String> {
        todo!("helper")
    }
}

impl PolicyError {
    /// Auth0's error `name`: `PasswordStrengthError`, `PasswordDictionaryError`,
    /// `PasswordNoUserInfoError`, `PasswordMaxLengthExceededError`.
    pub fn error_name(&self) -> &'static str {
        todo!("helper")
    }

    /// Auth0's `message`: "Password is too weak", "Password is too common",
    /// "Password contains user information", "Password is too long".
    pub fn message(&self) -> &'static str {
        todo!("helper")
    }

    /// The Management API's `message`: `"{name}: {message}"`.
    pub fn management_message(&self) -> String {
        format!("{}: {}", self.error_name(), self.message())
    }

    /// The 400 body of `/dbconnections/signup` (and the Authentication API):
    /// `{name, message, code: "invalid_password", description, policy, statusCode: 400}`.
    pub fn authentication_api_body(&self, policy: &PasswordPolicy) -> serde_json::Value {
        let _ = policy;
        todo!("helper")
    }
}

/// The fewest characters the old fixed rule asked for (until every caller
/// checks the connection's policy).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The old fixed rule: at least [`MIN_PASSWORD_CHARS`] characters.
pub fn is_long_enough(password: &str) -> bool {
    password.chars().count() >= MIN_PASSWORD_CHARS
}

/// [`is_long_enough`] and at most [`MAX_PASSWORD_BYTES`] bytes.
pub fn is_acceptable(password: &str) -> bool {
    is_long_enough(password) && password.len() <= MAX_PASSWORD_BYTES
}
