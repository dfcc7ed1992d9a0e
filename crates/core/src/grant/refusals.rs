//! The [`RefusalTrace`] of each refusal outside the grant decision, in words:
//! which rule refused, a sentence naming the client and the values, and the
//! fix. Pure, so the server only gathers the facts; `gatehouse explain`
//! reads these back from the log event.

use super::client_label;
use super::trace::{join_words, RefusalRule, RefusalTrace};
use crate::model::Client;

fn refusal(rule: RefusalRule, explanation: String, fix: String) -> RefusalTrace {
    RefusalTrace {
        rule,
        explanation,
        fix: Some(fix),
    }
}

/// The client does not have `grant_type` among its grant types.
pub fn grant_type_not_enabled(client: &Client, grant_type: &str) -> RefusalTrace {
    let enabled = if client.grant_types.is_empty() {
        "none".to_string()
    } else {
        join_words(&client.grant_types, "and")
    };
    refusal(
        RefusalRule::GrantTypeNotEnabled,
        format!(
            "Client {} asked for grant_type {grant_type}, which is not among its enabled grant \
             types ({enabled}), so the request was refused with unauthorized_client.",
            client_label(client)
        ),
        format!(
            "Enable the {grant_type} grant type on application {} (grant_types in \
             PATCH /api/v2/clients/{}).",
            client.name, client.client_id
        ),
    )
}

/// Client credentials for API `api` without a client grant for the client.
pub fn missing_client_grant(client: &Client, api: &str, scopes: &[&str]) -> RefusalTrace {
    let scope_words = if scopes.is_empty() {
        "the scopes it needs".to_string()
    } else {
        format!("the scopes {}", join_words(scopes, "and"))
    };
    refusal(
        RefusalRule::MissingClientGrant,
        format!(
            "Client {} asked for a client credentials token for API {api}, but the application \
             is not authorized on that API (it has no client grant there).",
            client_label(client)
        ),
        format!(
            "Authorize application {} on API {api} with {scope_words}: create a client grant \
             (POST /api/v2/client-grants with client_id {} and audience {api}).",
            client.name, client.client_id
        ),
    )
}

/// An audience that names no API; `identifiers` are every API's identifier.
pub fn unknown_audience(client: &Client, audience: &str, identifiers: &[&str]) -> RefusalTrace {
    let closest = closest_identifier(audience, identifiers);
    let hint = match closest {
        Some(c) => format!(" The closest known API identifier is \"{c}\"."),
        None => String::new(),
    };
    let fix = match closest {
        Some(c) => format!(
            "Send audience \"{c}\" (identifiers are compared exactly: a trailing slash or a \
             change of case makes a different identifier), or create an API with identifier \
             \"{audience}\"."
        ),
        None => format!(
            "Create an API with identifier \"{audience}\" (POST /api/v2/resource-servers), or \
             send the identifier of an existing API."
        ),
    };
    refusal(
        RefusalRule::UnknownAudience,
        format!(
            "Client {} asked for audience \"{audience}\", but no API has that identifier, so the \
             request was refused with Service not found.{hint}",
            client_label(client)
        ),
        fix,
    )
}

/// The known identifier most likely meant by `wanted`: the same up to a
/// trailing slash, case or surrounding spaces first, else the one within a
/// small edit distance (a typo); `None` when nothing is close.
pub fn closest_identifier<'a>(wanted: &str, identifiers: &[&'a str]) -> Option<&'a str> {
    let normal = |s: &str| s.trim().trim_end_matches('/').to_lowercase();
    let target = normal(wanted);
    if let Some(same) = identifiers.iter().find(|i| normal(i) == target) {
        return Some(same);
    }
    let length = target.chars().count();
    if length > MAX_COMPARED_CHARS {
        return None;
    }
    let allowed = (length / 5).clamp(1, 3);
    identifiers
        .iter()
        .map(|i| (normal(i), *i))
        // Lengths further apart than `allowed` cannot be within it: skip the
        // quadratic comparison.
        .filter(|(n, _)| n.chars().count().abs_diff(length) <= allowed)
        .map(|(n, i)| (edit_distance(&n, &target), i))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, i)| i)
}

/// Longer audiences are not compared: no identifier is a typo of a megabyte.
const MAX_COMPARED_CHARS: usize = 1_024;

/// Levenshtein distance over characters, bounded inputs (identifiers).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(usize::from(ca != *cb));
            let delete = previous
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let insert = current
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

/// Where a browser origin was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginCheck {
    /// A cross-origin call to the token endpoint (CORS).
    TokenEndpoint,
    /// `/authorize` with `response_mode=web_message`.
    WebMessage,
}

/// `origin` is not among the client's allowed (web) origins.
pub fn origin_not_allowed(client: &Client, origin: &str, check: OriginCheck) -> RefusalTrace {
    let (what, list, setting) = match check {
        OriginCheck::TokenEndpoint => (
            "called the token endpoint from",
            client
                .web_origins
                .iter()
                .chain(&client.allowed_origins)
                .cloned()
                .collect::<Vec<_>>(),
            "Allowed Web Origins (web_origins)",
        ),
        OriginCheck::WebMessage => (
            "asked for response_mode=web_message from",
            client.web_origins.clone(),
            "Allowed Web Origins (web_origins)",
        ),
    };
    let allowed = if list.is_empty() {
        "none".to_string()
    } else {
        join_words(&list, "and")
    };
    refusal(
        RefusalRule::OriginNotAllowed,
        format!(
            "Client {} {what} origin {origin}, which is not in its {setting} (allowed: {allowed}); \
             the browser cannot read the answer.",
            client_label(client)
        ),
        format!(
            "If {origin} is your own application, add it to the {setting} of application {}. \
             {ONLY_YOURS}",
            client.name
        ),
    )
}

/// A rotated refresh token presented again `seconds_since_rotation` after
/// its rotation (`None` when the rotation time is unknown).
pub fn refresh_token_reused(client: &Client, seconds_since_rotation: Option<i64>) -> RefusalTrace {
    let leeway = client.refresh_token.leeway;
    let when = match seconds_since_rotation {
        Some(s) => format!(" {s} seconds after it was rotated"),
        None => String::new(),
    };
    let cause = if leeway == 0 {
        "The client's rotation leeway (refresh_token.leeway) is 0, so even two tabs or two \
         requests racing with the same refresh token count as reuse."
            .to_string()
    } else {
        format!(
            "Likely two tabs or two requests racing with the same refresh token, or a copy kept \
             after rotation; the client's refresh_token.leeway of {leeway} seconds had passed."
        )
    };
    refusal(
        RefusalRule::RefreshTokenReused,
        format!(
            "Client {} presented a refresh token that was already rotated{when}; reuse revokes \
             the whole token family, so every refresh token of this login is now invalid. {cause}",
            client_label(client)
        ),
        "Keep only the newest refresh token and refresh from one place (one tab, or a lock \
         around refreshes); or set refresh_token.leeway on the application to tolerate \
         concurrent refreshes. The user must log in again."
            .to_string(),
    )
}

/// Why a refresh token is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidRefreshToken {
    /// No such token.
    Unknown,
    /// Issued to another client.
    OtherClient,
    /// Its family was revoked (logout, revocation, reuse, password change).
    Revoked,
    /// Past its idle or absolute lifetime.
    Expired,
}

/// A refresh token that is unknown, another client's, revoked or expired.
pub fn refresh_token_invalid(client: &Client, why: InvalidRefreshToken) -> RefusalTrace {
    let (reason, fix) = match why {
        InvalidRefreshToken::Unknown => (
            "is not a refresh token Gatehouse issued (or it was deleted)",
            "Send the refresh token from the latest token response, exactly as received.",
        ),
        InvalidRefreshToken::OtherClient => (
            "was issued to another client",
            "Refresh with the client_id the refresh token was issued to.",
        ),
        InvalidRefreshToken::Revoked => (
            "belongs to a revoked token family (revoked by /oauth/revoke, logout, reuse \
             detection or an administrator)",
            "Log the user in again to get a new refresh token.",
        ),
        InvalidRefreshToken::Expired => (
            "is past its idle or absolute lifetime",
            "Log the user in again; to keep sessions longer, raise the application's \
             refresh_token lifetimes.",
        ),
    };
    refusal(
        RefusalRule::RefreshTokenInvalid,
        format!(
            "Client {} presented a refresh token that {reason}.",
            client_label(client)
        ),
        fix.to_string(),
    )
}

/// A logout `returnTo` not in the allowed logout URLs (of the client, or of
/// the tenant when no client was named).
pub fn return_to_not_allowed(
    client: Option<&Client>,
    return_to: &str,
    allowed: &[String],
) -> RefusalTrace {
    let list = if allowed.is_empty() {
        "none".to_string()
    } else {
        join_words(allowed, "and")
    };
    let (whose, fix) = match client {
        Some(c) => (
            format!("the Allowed Logout URLs of client {}", client_label(c)),
            format!(
                "If {return_to} is your own application's page, add it to the Allowed Logout \
                 URLs (allowed_logout_urls) of application {}. {ONLY_YOURS}",
                c.name
            ),
        ),
        None => (
            "the tenant's Allowed Logout URLs (no client_id was sent)".to_string(),
            format!(
                "If {return_to} is your own application's page, add it to the tenant's \
                 allowed_logout_urls, or send client_id and add it to the application's \
                 Allowed Logout URLs. {ONLY_YOURS}"
            ),
        ),
    };
    refusal(
        RefusalRule::ReturnToNotAllowed,
        format!(
            "The logout returnTo {return_to} is not in {whose} (allowed: {list}); URLs are \
             compared exactly."
        ),
        fix,
    )
}

/// Said with every fix that would allow a URL taken from the request: anyone
/// can send a request naming any URL, so the fix must not read as an order.
const ONLY_YOURS: &str = "Anyone can send a request naming any URL: never add one you do not \
                          own, or its owner receives your users' codes and tokens.";

/// A `redirect_uri` not among the client's callback URLs.
pub fn redirect_uri_not_allowed(client: &Client, redirect_uri: &str) -> RefusalTrace {
    let list = if client.callbacks.is_empty() {
        "none".to_string()
    } else {
        join_words(&client.callbacks, "and")
    };
    refusal(
        RefusalRule::RedirectUriNotAllowed,
        format!(
            "Client {} sent redirect_uri {redirect_uri}, which is not in its Allowed Callback \
             URLs (allowed: {list}); callback URLs are compared exactly.",
            client_label(client)
        ),
        format!(
            "If {redirect_uri} is your own application's callback, add it to the Allowed \
             Callback URLs (callbacks) of application {}. {ONLY_YOURS}",
            client.name
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AppType;

    #[test]
    fn closest_identifier_finds_slash_case_and_typos() {
        let ids = [
            "https://api.example.com/",
            "https://billing.example.com",
            "urn:orders",
        ];
        assert_eq!(
            closest_identifier("https://api.example.com", &ids),
            Some("https://api.example.com/")
        );
        assert_eq!(
            closest_identifier("HTTPS://Billing.example.com/", &ids),
            Some("https://billing.example.com")
        );
        assert_eq!(closest_identifier("urn:order", &ids), Some("urn:orders"));
        assert_eq!(closest_identifier("https://other.test", &ids), None);
        assert_eq!(closest_identifier("x", &[]), None);
        // A megabyte is nobody's typo, and is not compared character by character.
        let huge = "h".repeat(1 << 20);
        assert_eq!(closest_identifier(&huge, &ids), None);
    }

    #[test]
    fn unknown_audience_names_client_value_and_closest() {
        let client = Client::new("c1", "Backend", AppType::NonInteractive);
        let r = unknown_audience(
            &client,
            "https://api.example.com",
            &["https://api.example.com/"],
        );
        assert_eq!(r.rule, RefusalRule::UnknownAudience);
        assert!(r.explanation.contains("c1"));
        assert!(r.explanation.contains("\"https://api.example.com/\""));
        assert!(r.fix.unwrap().contains("https://api.example.com/"));
    }

    #[test]
    fn reuse_names_the_leeway_when_it_is_zero() {
        let mut client = Client::new("c1", "SPA", AppType::Spa);
        client.refresh_token.leeway = 0;
        let r = refresh_token_reused(&client, Some(12));
        assert!(r.explanation.contains("refresh_token.leeway"));
        assert!(r.explanation.contains("12 seconds"));
        assert!(r.explanation.contains("two tabs"));
        client.refresh_token.leeway = 5;
        let r = refresh_token_reused(&client, None);
        assert!(r.explanation.contains("two tabs"));
        assert!(r.explanation.contains("5 seconds"));
    }

    #[test]
    fn every_refusal_names_the_client_and_has_a_fix() {
        let mut client = Client::new("cid", "App", AppType::Spa);
        client.callbacks = vec!["https://app.test/cb".into()];
        let all = [
            grant_type_not_enabled(&client, "password"),
            missing_client_grant(&client, "urn:api", &["read:x"]),
            origin_not_allowed(&client, "https://evil.test", OriginCheck::TokenEndpoint),
            origin_not_allowed(&client, "https://evil.test", OriginCheck::WebMessage),
            refresh_token_invalid(&client, InvalidRefreshToken::Revoked),
            return_to_not_allowed(Some(&client), "https://x.test", &[]),
            redirect_uri_not_allowed(&client, "https://app.test/cb/"),
        ];
        for r in all {
            assert!(r.explanation.contains("cid"), "{}", r.explanation);
            assert!(r.fix.is_some());
        }
    }
}
