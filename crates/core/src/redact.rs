//! Secrets held in memory — passwords, client secrets, authorization codes,
//! refresh tokens, device codes — wrapped so that no `{:?}`, `{}` or tracing
//! field prints them by accident.
//!
//! [`Secret`] serializes and deserializes as the bare value, so wrapping a
//! field changes nothing on the wire; reading it takes an explicit
//! [`Secret::expose`].

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value that `Debug` and `Display` print as `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself, for the code that has to use it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl Secret<String> {
    /// The secret as a string slice.
    pub fn expose_str(&self) -> &str {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Self(value.to_string())
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let secret = Secret::from("hunter2-but-longer");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some([redacted])");
        assert_eq!(secret.expose_str(), "hunter2-but-longer");
    }

    #[test]
    fn serde_sees_the_bare_value() {
        let secret: Secret<String> = serde_json::from_str("\"s3cret\"").unwrap();
        assert_eq!(secret.expose(), "s3cret");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"s3cret\"");
        let absent: Option<Secret<String>> = serde_json::from_str("null").unwrap();
        assert_eq!(absent, None);
    }
}
