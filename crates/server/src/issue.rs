//! Minting what a decision allows: access tokens (JWT or opaque), ID tokens,
//! refresh-token families, and the token response.

use crate::decision::Decided;
use crate::error::ApiError;
use crate::state::AppState;
use gatehouse_core::actions::merge_custom_claims;
use gatehouse_core::claims::{AccessTokenClaims, IdTokenClaims};
use gatehouse_core::grant::TokenFormat;
use gatehouse_core::jose::{half_hash, sign_jwt, sign_jwt_hs256};
use gatehouse_core::model::{Client, ExpirationType, SigningAlg, User};
use gatehouse_core::redact::Secret;
use gatehouse_core::secret::hash_token;
use gatehouse_core::{ids, ScopeSet};
use gatehouse_store::{OpaqueToken, RefreshFamily};
use serde::Serialize;
use serde_json::Value;

/// Auth0 keeps at most this many active refresh tokens per user and application.
pub const MAX_ACTIVE_REFRESH_TOKENS: i64 = 200;

/// The `/oauth/token` success body (RFC 6749 §5.1 plus Auth0's `scope`).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
    pub expires_in: u64,
    pub token_type: &'static str,
}

/// What to mint, beyond the decision.
pub struct Mint<'a> {
    pub client: &'a Client,
    pub user: Option<&'a User>,
    pub decided: &'a Decided,
    pub grant_type: &'a str,
    pub nonce: Option<&'a str>,
    pub sid: Option<&'a str>,
    /// Put into the ID token when set.
    pub auth_time: Option<i64>,
    pub refresh_token: Option<String>,
    pub now: i64,
}

/// The response plus the access token's `jti` (for the log event); an
/// opaque token has one too, kept beside its hash.
pub struct Minted {
    pub response: TokenResponse,
    pub jti: Option<String>,
}

pub async fn mint(state: &AppState, m: Mint<'_>) -> Result<Minted, ApiError> {
    let decision = &m.decided.decision;
    let (access_token, jti) = access_token(state, &m).await?;
    let id_token = match (decision.issue_id_token, m.user) {
        (true, Some(user)) => Some(id_token(state, &m, user, Some(&access_token), None)?),
        _ => None,
    };
    Ok(Minted {
        response: TokenResponse {
            access_token,
            refresh_token: m.refresh_token.clone().map(Secret::new),
            id_token,
            scope: decision.scope.to_string(),
            expires_in: decision.expires_in,
            token_type: "Bearer",
        },
        jti,
    })
}

/// A JWT's claims before signing: the algorithm, the JOSE `typ` and the claim set.
#[derive(Debug, Clone)]
pub struct JwtClaims {
    pub alg: SigningAlg,
    pub typ: &'static str,
    pub claims: Value,
}

/// When the access token of `m` expires.
fn access_token_expiry(m: &Mint<'_>) -> i64 {
    let lifetime = m.decided.decision.expires_in;
    m.now
        .saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX / 2))
}

/// The claims of the access token `m` allows when it is a JWT (an API audience);
/// `None` for an opaque `/userinfo` token. The one source of the access-token
/// claim rules, shared by [`mint`] and [`crate::simulate`].
pub fn access_token_claims(state: &AppState, m: &Mint<'_>, jti: &str) -> Option<JwtClaims> {
    let decision = &m.decided.decision;
    let (TokenFormat::Jwt { alg, dialect, .. }, Some(api)) =
        (decision.token_format, &m.decided.api)
    else {
        return None;
    };
    let subject = match m.user {
        Some(user) => user.user_id.clone(),
        None => format!("{}@clients", m.client.client_id),
    };
    let claims = AccessTokenClaims {
        issuer: state.issuer(),
        subject: &subject,
        client_id: &m.client.client_id,
        audience: &api.identifier,
        // HS256 APIs allow a single audience only (auth0-compat.md §3).
        with_userinfo_audience: m.user.is_some()
            && decision.scope.contains("openid")
            && alg != SigningAlg::HS256,
        scope: &decision.scope,
        permissions: decision.permissions.as_deref(),
        dialect,
        grant_type: m.grant_type,
        issued_at: m.now,
        expires_at: access_token_expiry(m),
        jti,
    };
    let mut claims_json = claims.to_json();
    merge_custom_claims(&mut claims_json, &m.decided.actions.access_token_claims);
    Some(JwtClaims {
        alg,
        typ: claims.typ(),
        claims: claims_json,
    })
}

async fn access_token(
    state: &AppState,
    m: &Mint<'_>,
) -> Result<(String, Option<String>), ApiError> {
    let jti = ids::random_token(16);
    match (access_token_claims(state, m, &jti), &m.decided.api) {
        (Some(jwt), Some(api)) => {
            let token = if jwt.alg == SigningAlg::HS256 {
                let secret = api.signing_secret.as_deref().ok_or_else(|| {
                    ApiError::internal(format!(
                        "HS256 API {} has no signing secret",
                        api.identifier
                    ))
                })?;
                sign_jwt_hs256(secret.as_bytes(), jwt.typ, &jwt.claims)?
            } else {
                let key = state
                    .keys()
                    .signing_key(jwt.alg)
                    .ok_or_else(|| ApiError::internal(format!("no current {:?} key", jwt.alg)))?;
                sign_jwt(&key, jwt.typ, &jwt.claims)?
            };
            Ok((token, Some(jti)))
        }
        _ => {
            let user = m
                .user
                .ok_or_else(|| ApiError::internal("opaque token without a user"))?;
            let token = ids::random_token(32);
            state
                .store()
                .insert_opaque_token(&OpaqueToken {
                    token_hash: hash_token(&token),
                    client_id: m.client.client_id.clone(),
                    user_id: user.user_id.clone(),
                    scope: m.decided.decision.scope.to_string(),
                    expires_at: access_token_expiry(m),
                    jti: Some(jti.clone()),
                })
                .await?;
            Ok((token, Some(jti)))
        }
    }
}

/// ID tokens are signed asymmetrically: client secrets are stored only as
/// hashes, so HS256 ID tokens are not possible and fall back to RS256.
fn id_token_alg(client: &Client) -> SigningAlg {
    match client.jwt_configuration.alg {
        SigningAlg::HS256 => SigningAlg::RS256,
        alg => alg,
    }
}

/// The claims of the ID token for `user`, with `at_hash` of the access token
/// and `c_hash` of the code issued beside it. The one source of the ID-token
/// claim rules, shared by [`mint`], [`mint_front_channel`] and [`crate::simulate`].
pub fn id_token_claims(
    state: &AppState,
    m: &Mint<'_>,
    user: &User,
    access_token: Option<&str>,
    code: Option<&str>,
) -> JwtClaims {
    let alg = id_token_alg(m.client);
    let lifetime = i64::try_from(m.client.jwt_configuration.lifetime_in_seconds).unwrap_or(36_000);
    let claims = IdTokenClaims {
        issuer: state.issuer(),
        user,
        client_id: &m.client.client_id,
        scope: &m.decided.decision.scope,
        nonce: m.nonce,
        sid: m.sid,
        auth_time: m.auth_time,
        at_hash: access_token.map(|t| half_hash(t, alg)),
        c_hash: code.map(|c| half_hash(c, alg)),
        issued_at: m.now,
        expires_at: m.now.saturating_add(lifetime),
    };
    let mut claims_json = claims.to_json();
    merge_custom_claims(&mut claims_json, &m.decided.actions.id_token_claims);
    JwtClaims {
        alg,
        typ: "JWT",
        claims: claims_json,
    }
}

fn id_token(
    state: &AppState,
    m: &Mint<'_>,
    user: &User,
    access_token: Option<&str>,
    code: Option<&str>,
) -> Result<String, ApiError> {
    let jwt = id_token_claims(state, m, user, access_token, code);
    let key = state
        .keys()
        .signing_key(jwt.alg)
        .ok_or_else(|| ApiError::internal(format!("no current {:?} key", jwt.alg)))?;
    Ok(sign_jwt(&key, jwt.typ, &jwt.claims)?)
}

/// What `/authorize` mints for implicit and hybrid responses.
pub struct FrontChannelMint<'a> {
    pub mint: Mint<'a>,
    /// `response_type` has `token`.
    pub access_token: bool,
    /// `response_type` has `id_token`.
    pub id_token: bool,
    /// The code issued in the same response (for `c_hash`).
    pub code: Option<&'a str>,
}

/// Tokens for the front channel.
pub struct FrontChannelTokens {
    pub access_token: Option<String>,
    /// The access token's `jti` (for the log event).
    pub access_token_jti: Option<String>,
    pub id_token: Option<String>,
}

/// Mints the tokens of an implicit or hybrid `/authorize` response: an ID
/// token carries `at_hash` beside an access token and `c_hash` beside a code
/// (OIDC Core §3.3.2.11).
pub async fn mint_front_channel(
    state: &AppState,
    f: FrontChannelMint<'_>,
) -> Result<FrontChannelTokens, ApiError> {
    let (access_token, access_token_jti) = if f.access_token {
        let (token, jti) = access_token(state, &f.mint).await?;
        (Some(token), jti)
    } else {
        (None, None)
    };
    let id_token = match (f.id_token, f.mint.user) {
        (true, Some(user)) => Some(id_token(
            state,
            &f.mint,
            user,
            access_token.as_deref(),
            f.code,
        )?),
        _ => None,
    };
    Ok(FrontChannelTokens {
        access_token,
        access_token_jti,
        id_token,
    })
}

/// Starts a refresh-token family and returns its first token.
pub struct NewFamily<'a> {
    pub client: &'a Client,
    pub user: &'a User,
    pub audience: Option<String>,
    pub scope: &'a ScopeSet,
    pub auth_time: i64,
    pub sid: Option<String>,
    /// The hash of the code whose redemption starts the family.
    pub from_code: Option<&'a str>,
    pub now: i64,
}

pub async fn new_refresh_family(state: &AppState, f: NewFamily<'_>) -> Result<String, ApiError> {
    let settings = &f.client.refresh_token;
    let expires_at = (settings.expiration_type == ExpirationType::Expiring
        && !settings.infinite_token_lifetime)
        .then(|| {
            f.now
                .saturating_add(i64::try_from(settings.token_lifetime).unwrap_or(i64::MAX / 2))
        });
    let family = RefreshFamily {
        id: ids::random_token(16),
        client_id: f.client.client_id.clone(),
        user_id: f.user.user_id.clone(),
        audience: f.audience,
        scope: f.scope.to_string(),
        auth_time: f.auth_time,
        sid: f.sid,
        created_at: f.now,
        expires_at,
        revoked_at: None,
    };
    let token = ids::random_token(32);
    state
        .store()
        .create_refresh_family(
            &family,
            &hash_token(&token),
            MAX_ACTIVE_REFRESH_TOKENS,
            f.from_code,
        )
        .await?;
    Ok(token)
}
