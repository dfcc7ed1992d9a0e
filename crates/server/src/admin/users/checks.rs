//! What the user forms can check before anything is written, and where a
//! Management API refusal belongs on them. Pure functions, unit-tested.

use super::super::form::FieldErrors;
use crate::routes::management::error::ManagementError;
use axum::http::StatusCode;
use gatehouse_core::password_policy::{PasswordPolicy, PersonalInfo, PolicyError};
use serde_json::{Map, Value};

/// The email rule of the Management API: something@something, no spaces.
pub fn check_email(errors: &mut FieldErrors, field: &str, email: &str) {
    if email.is_empty() {
        errors.add(field, "Enter the user's email address.");
    } else if email.len() > 320
        || email.contains(char::is_whitespace)
        || !email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
    {
        errors.add(field, "Enter an email address like alice@example.com.");
    }
}

/// The database connection's password policy, before the Management API
/// checks it again with the user's profile (personal information).
pub fn check_password(
    errors: &mut FieldErrors,
    field: &str,
    password: &str,
    policy: &PasswordPolicy,
) {
    if password.is_empty() {
        errors.add(field, "Enter a password.");
    } else if let Err(refused) = policy.check(password, &PersonalInfo::default()) {
        errors.add(field, password_problem(&refused, policy));
    }
}

/// A refusal in words, with the rules when the password is too weak:
/// "Password is too weak: at least 8 characters in length."
pub fn password_problem(refused: &PolicyError, policy: &PasswordPolicy) -> String {
    match refused {
        PolicyError::TooWeak { .. } => {
            let rules: Vec<String> = policy.rule_lines().iter().map(|l| lower_first(l)).collect();
            format!("{}: {}.", refused.message(), rules.join("; "))
        }
        _ => format!("{}.", refused.message()),
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A new password typed twice.
pub fn check_password_pair(
    errors: &mut FieldErrors,
    password: &str,
    repeated: &str,
    policy: &PasswordPolicy,
) {
    check_password(errors, "password", password, policy);
    if repeated != password {
        errors.add("password_repeat", "The two passwords are not the same.");
    }
}

/// A metadata textarea: a JSON object, or empty for `{}`.
pub fn parse_metadata(
    errors: &mut FieldErrors,
    field: &str,
    text: &str,
) -> Option<Map<String, Value>> {
    if text.trim().is_empty() {
        return Some(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Some(map),
        Ok(_) => {
            errors.add(field, "Enter a JSON object, like {\"plan\": \"pro\"}.");
            None
        }
        Err(e) => {
            errors.add(
                field,
                format!(
                    "This is not valid JSON: {} (line {}, column {}).",
                    json_problem(&e),
                    e.line(),
                    e.column()
                ),
            );
            None
        }
    }
}

fn json_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    text.split(" at line ").next().unwrap_or(&text).to_string()
}

/// The PATCH that turns the stored metadata `old` into `new`: the API merges
/// top-level keys, so a key the admin deleted is sent as `null`, and an empty
/// object clears everything. `None` when nothing changed.
pub fn metadata_patch(old: &Value, new: Map<String, Value>) -> Option<Map<String, Value>> {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    if *old == new {
        return None;
    }
    if new.is_empty() {
        return Some(new);
    }
    let mut patch = new;
    for key in old.keys() {
        patch.entry(key.clone()).or_insert(Value::Null);
    }
    Some(patch)
}

/// The Management API's refusals of a password by the policy
/// (`PasswordStrengthError: …`, `PasswordDictionaryError: …`, …).
fn is_password_refusal(message: &str) -> bool {
    message
        .split_once(':')
        .is_some_and(|(name, _)| name.starts_with("Password") && name.ends_with("Error"))
}

/// A Management API refusal of a user write, next to the field it is about.
pub fn user_error(error: &ManagementError, form_fields: &[&str]) -> FieldErrors {
    let field = if error.status == StatusCode::CONFLICT {
        Some("email")
    } else if is_password_refusal(&error.message) {
        Some("password")
    } else if error.message.contains("'email'") {
        Some("email")
    } else if error.message.contains("connection") {
        Some("connection")
    } else {
        None
    };
    match field.filter(|f| form_fields.contains(f)) {
        Some(field) if !error.status.is_server_error() => {
            let mut errors = FieldErrors::default();
            errors.add(field, error.message.clone());
            errors
        }
        _ => FieldErrors::from_management(error, form_fields),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails_and_passwords() {
        let mut e = FieldErrors::default();
        let policy = PasswordPolicy::default();
        check_email(&mut e, "email", "alice@example.com");
        check_password(&mut e, "password", "long-enough", &policy);
        assert!(e.is_empty());
        for bad in ["", "alice", "@example.com", "a b@example.com", "alice@"] {
            let mut e = FieldErrors::default();
            check_email(&mut e, "email", bad);
            assert!(e.fields.contains_key("email"), "{bad}");
        }
        let mut e = FieldErrors::default();
        check_password_pair(&mut e, "short", "other", &policy);
        assert_eq!(
            e.fields["password"],
            "Password is too weak: at least 8 characters in length; not a commonly used password."
        );
        assert!(e.fields["password_repeat"].contains("not the same"));
        let mut e = FieldErrors::default();
        check_password(&mut e, "password", "PASSWORD123", &policy);
        assert_eq!(e.fields["password"], "Password is too common.");
    }

    #[test]
    fn metadata_must_be_an_object() {
        let mut e = FieldErrors::default();
        assert_eq!(parse_metadata(&mut e, "m", " "), Some(Map::new()));
        assert!(parse_metadata(&mut e, "m", "[1]").is_none());
        assert!(e.fields["m"].contains("JSON object"));
        let mut e = FieldErrors::default();
        assert!(parse_metadata(&mut e, "m", "{\"a\": }").is_none());
        assert!(e.fields["m"].contains("line 1"), "{:?}", e.fields);
    }

    #[test]
    fn metadata_patches_delete_what_was_removed() {
        let old = json!({"a": 1, "b": 2});
        let new = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(metadata_patch(&old, new(json!({"a": 1, "b": 2}))), None);
        assert_eq!(
            metadata_patch(&old, new(json!({"a": 3}))),
            Some(new(json!({"a": 3, "b": null})))
        );
        assert_eq!(metadata_patch(&old, Map::new()), Some(Map::new()));
        assert_eq!(
            metadata_patch(&Value::Null, new(json!({"x": true}))),
            Some(new(json!({"x": true})))
        );
    }

    #[test]
    fn api_refusals_find_their_field() {
        let conflict = ManagementError::conflict("The user already exists.", "auth0_idp_error");
        let e = user_error(&conflict, &["email", "password"]);
        assert_eq!(e.fields["email"], "The user already exists.");
        let weak = ManagementError::invalid_body("PasswordStrengthError: Password is too weak");
        assert!(user_error(&weak, &["email", "password"])
            .fields
            .contains_key("password"));
        for refused in [
            "PasswordDictionaryError: Password is too common",
            "PasswordNoUserInfoError: Password contains user information",
        ] {
            let e = ManagementError::invalid_body(refused);
            assert_eq!(
                user_error(&e, &["email", "password"]).fields["password"],
                refused
            );
        }
        let other = ManagementError::invalid_body("Something else.");
        assert_eq!(user_error(&other, &["email"]).general.len(), 1);
        let internal = ManagementError::internal("db down: email");
        assert!(user_error(&internal, &["email"]).fields.is_empty());
    }
}
