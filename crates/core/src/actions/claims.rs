//! Auth0's rules for the claims an Action may set (auth0-compat.md §10).

use serde_json::{Map, Value};

/// Claims an Action may never set, in either token. Auth0's list of
/// "claims subject to Auth0's restrictions", plus `scope`, which Auth0 owns
/// as well (an Action changes it with `addScope`/`removeScope` only).
///
/// Source: <https://auth0.com/docs/secure/tokens/json-web-tokens/create-custom-claims#general-restrictions>
/// (formerly <https://auth0.com/docs/tokens/create-namespaced-custom-claims>).
pub const RESTRICTED_CLAIMS: &[&str] = &[
    "acr",
    "act",
    "active",
    "amr",
    "at_hash",
    "ath",
    "attest",
    "aud",
    "auth_time",
    "authorization_details",
    "azp",
    "c_hash",
    "client_id",
    "cnf",
    "cty",
    "dest",
    "entitlements",
    "events",
    "exp",
    "groups",
    "gty",
    "htm",
    "htu",
    "iat",
    "internalService",
    "iss",
    "jcard",
    "jku",
    "jti",
    "jwe",
    "jwk",
    "kid",
    "may_act",
    "mky",
    "nbf",
    "nonce",
    "object_id",
    "org_id",
    "org_name",
    "orig",
    "origid",
    "permissions",
    "roles",
    "rph",
    "s_hash",
    "scope",
    "sid",
    "sip_callid",
    "sip_cseq_num",
    "sip_date",
    "sip_from_tag",
    "sip_via_branch",
    "sub",
    "sub_jwk",
    "toe",
    "txn",
    "typ",
    "uuid",
    "vot",
    "vtm",
    "x5t#S256",
];

/// The OpenID Connect standard claims: Auth0 fills them in the ID token from
/// the user's profile and an Action cannot replace them there ("OPENID
/// standard claims … cannot be customized or modified").
///
/// Sources: <https://openid.net/specs/openid-connect-core-1_0.html#StandardClaims>,
/// <https://auth0.com/docs/secure/tokens/json-web-tokens/create-custom-claims#general-restrictions>.
pub const OIDC_STANDARD_CLAIMS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
];

/// The total size of one token's custom claims, serialized as JSON (100 KB).
///
/// Source: <https://auth0.com/docs/troubleshoot/product-lifecycle/past-migrations/custom-claims-migration#maximum-token-size>.
pub const MAX_CUSTOM_CLAIMS_BYTES: usize = 100 * 1024;

/// Whether `name` is a restricted claim ([`RESTRICTED_CLAIMS`]).
pub fn is_restricted_claim(name: &str) -> bool {
    RESTRICTED_CLAIMS.contains(&name)
}

/// Whether `name` is an OpenID Connect standard claim ([`OIDC_STANDARD_CLAIMS`]).
pub fn is_oidc_standard_claim(name: &str) -> bool {
    OIDC_STANDARD_CLAIMS.contains(&name)
}

/// Whether `name` is a URL whose host is `auth0.com` or under it
/// (`https://auth0.com/x`, `https://tenant.eu.auth0.com/x`): Auth0 keeps
/// those namespaces for itself. `https://myauth0.com.example/` is not one.
pub fn is_auth0_namespace(name: &str) -> bool {
    let Some((_, rest)) = name.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = host_port.split(':').next().unwrap_or_default();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "auth0.com" || host.ends_with(".auth0.com")
}

/// The size in bytes of claims serialized as one JSON object.
pub(crate) fn serialized_size(claims: &Map<String, Value>) -> usize {
    json_len(claims)
}

/// The size in bytes `claims`, now `current` bytes long, would have with
/// `name` set to `value`, counted from the change alone: an Action may set
/// hundreds of claims, and measuring all the claims for each would cost the
/// server time in their square.
pub(crate) fn size_with(
    current: usize,
    claims: &Map<String, Value>,
    name: &str,
    value: &Value,
) -> usize {
    let entry = |v: &Value| json_len(name).saturating_add(1).saturating_add(json_len(v));
    match claims.get(name) {
        Some(old) => current
            .saturating_sub(entry(old))
            .saturating_add(entry(value)),
        None if claims.is_empty() => current.saturating_add(entry(value)),
        // One more comma before the new member.
        None => current.saturating_add(1).saturating_add(entry(value)),
    }
}

/// The length of `value` as compact JSON, counted without keeping the text.
fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(bytes.len());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// Merges custom claims into a token's claim object; a claim already present
/// (a standard one the token was built with) is kept, as Auth0 drops a custom
/// claim that collides with a standard one.
pub fn merge_custom_claims(claims: &mut Value, custom: &Map<String, Value>) {
    let Some(object) = claims.as_object_mut() else {
        return;
    };
    for (name, value) in custom {
        if !object.contains_key(name) {
            object.insert(name.clone(), value.clone());
        }
    }
}
