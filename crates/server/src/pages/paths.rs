//! Where the pages live, in one place: the router mounts them here, the
//! authorization flow redirects to them, and the body-limit middleware
//! answers requests under them with the HTML error page.

use gatehouse_core::discovery::END_SESSION;

/// The login page; takes the `/authorize` query.
pub const LOGIN_PATH: &str = "/u/login";
/// The signup page; takes the `/authorize` query.
pub const SIGNUP_PATH: &str = "/u/signup";
/// Asking for a password-reset email ("Forgot your password?").
pub const RESET_REQUEST_PATH: &str = "/u/reset-password/request";
/// The page a password-change ticket opens (`?ticket=…`).
pub const RESET_PASSWORD_PATH: &str = "/u/reset-password";
/// The page an email-verification ticket opens (`?ticket=…`).
pub const EMAIL_VERIFICATION_PATH: &str = "/u/email-verification";
/// The consent page; takes the `/authorize` query.
pub const CONSENT_PATH: &str = "/u/consent";
/// Device activation (RFC 8628 `verification_uri`).
pub const ACTIVATE_PATH: &str = "/activate";
/// The one stylesheet of every page.
pub const STYLESHEET_PATH: &str = "/u/style.css";

/// Whether `path` is served by a page (answered in HTML): everything under
/// `/u/`, device activation and the OIDC logout pages.
pub fn is_page(path: &str) -> bool {
    let under = |base: &str| {
        path.strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    path.starts_with("/u/") || under(ACTIVATE_PATH) || under(END_SESSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_recognised_by_path() {
        for page in [
            LOGIN_PATH,
            CONSENT_PATH,
            ACTIVATE_PATH,
            "/oidc/logout/confirm",
        ] {
            assert!(is_page(page), "{page}");
        }
        for other in ["/activated", "/oauth/token", "/authorize", "/api/v2/users"] {
            assert!(!is_page(other), "{other}");
        }
    }
}
