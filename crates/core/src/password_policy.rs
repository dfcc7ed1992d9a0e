//! The password policy: what a new password must be, wherever one is set
//! (signup page, Management API, CLI, bootstrap admin).
//!
//! Length counts characters (Unicode scalar values), not bytes, so a short
//! password of multi-byte characters is not taken for a long one. The upper
//! bound is in bytes: it caps the argon2id input.

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The most bytes a password may have where a form takes it (signup page).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Whether `password` has at least [`MIN_PASSWORD_CHARS`] characters.
pub fn is_long_enough(password: &str) -> bool {
    password.chars().count() >= MIN_PASSWORD_CHARS
}

/// [`is_long_enough`] and at most [`MAX_PASSWORD_BYTES`] bytes.
pub fn is_acceptable(password: &str) -> bool {
    is_long_enough(password) && password.len() <= MAX_PASSWORD_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters() {
        assert!(is_long_enough("12345678"));
        assert!(!is_long_enough("1234567"));
        // Four characters of two bytes each: eight bytes, still too short.
        assert!(!is_long_enough("éééé"));
        assert!(is_long_enough("éééééééé"));
    }

    #[test]
    fn form_passwords_are_bounded() {
        assert!(is_acceptable(&"a".repeat(MAX_PASSWORD_BYTES)));
        assert!(!is_acceptable(&"a".repeat(MAX_PASSWORD_BYTES + 1)));
        assert!(!is_acceptable("short"));
    }
}
