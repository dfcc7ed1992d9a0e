//! `/api/v2/keys/signing`: list, rotate and revoke signing keys.
//!
//! Keys move `next → current → previous → revoked`. A rotation, for every
//! algorithm, promotes the `next` key (or a freshly generated one) to
//! `current`, moves the old `current` to `previous` and generates a new
//! `next`, then reloads this node's key ring. Previous keys stay published
//! so tokens they signed keep verifying until they are revoked.

use super::error::{ManagementError, MgmtResult};
use super::extract::MPath;
use crate::keys::{sealed_record, verify_master_key};
use crate::state::AppState;
use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_core::jose::{KeyPair, KeyState};
use gatehouse_core::model::SigningAlg;
use gatehouse_core::sealing::MasterKey;
use gatehouse_core::time::iso8601;
use gatehouse_store::{Store, StoredKey};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// The certificate as PEM.
fn pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\r\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push_str("\r\n");
    }
    out.push_str("-----END CERTIFICATE-----\r\n");
    out
}

/// A signing key as Auth0 renders it (plus Gatehouse's `alg`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SigningKey)]
pub struct SigningKeyView {
    pub kid: String,
    pub alg: SigningAlg,
    /// The self-signed certificate as PEM.
    pub cert: String,
    /// SHA-1 of the certificate, colon-separated uppercase hex.
    pub fingerprint: String,
    /// SHA-1 of the certificate, lowercase hex.
    pub thumbprint: String,
    pub current: bool,
    pub next: bool,
    pub previous: bool,
    pub revoked: bool,
    /// ISO 8601; only on the current key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_since: Option<String>,
    /// ISO 8601; only on a previous key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_until: Option<String>,
    /// ISO 8601; only on a revoked key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// The reply to a rotation or a revocation: the key's id and certificate.
#[derive(Debug, ToSchema)]
pub struct KeyCertificate {
    pub kid: String,
    /// The certificate as PEM.
    pub cert: String,
}

/// A key as JSON (see [`SigningKeyView`]).
pub fn render(key: &StoredKey) -> Value {
    let sha1 = digest(&SHA1_FOR_LEGACY_USE_ONLY, &key.cert_der);
    let hex: Vec<String> = sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    let state = key.state.as_str();
    let changed = || Some(iso8601(key.state_changed_at));
    let view = SigningKeyView {
        kid: key.kid.clone(),
        alg: key.alg,
        cert: pem(&key.cert_der),
        fingerprint: hex.join(":"),
        thumbprint: hex.concat().to_lowercase(),
        current: state == "current",
        next: state == "next",
        previous: state == "previous",
        revoked: state == "revoked",
        current_since: if state == "current" { changed() } else { None },
        current_until: if state == "previous" { changed() } else { None },
        revoked_at: if state == "revoked" { changed() } else { None },
    };
    serde_json::to_value(view).unwrap_or(Value::Null)
}

pub async fn list(State(state): State<AppState>) -> MgmtResult<Json<Vec<Value>>> {
    let keys = state.store().signing_keys().await?;
    Ok(Json(keys.iter().map(render).collect()))
}

async fn find(state: &AppState, kid: &str) -> MgmtResult<StoredKey> {
    state
        .store()
        .signing_keys()
        .await?
        .into_iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| {
            ManagementError::not_found("The signing key does not exist", "inexistent_signing_key")
        })
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(kid): MPath<String>,
) -> MgmtResult<Json<Value>> {
    Ok(Json(render(&find(&state, &kid).await?)))
}

async fn generate(
    alg: SigningAlg,
    key_state: KeyState,
    master_key: &MasterKey,
    now: i64,
) -> MgmtResult<StoredKey> {
    let key = tokio::task::spawn_blocking(move || KeyPair::generate(alg))
        .await
        .map_err(ManagementError::internal)?
        .map_err(ManagementError::internal)?;
    Ok(sealed_record(&key, master_key, key_state, now))
}

/// Rotates every algorithm's key in the store, sealing new keys under
/// `master_key`, and returns the new RS256 current key's kid. Callers reload
/// their key ring afterwards (the CLI's `gatehouse keys rotate` shares this
/// with the endpoint). A master key that does not open the stored keys
/// changes nothing.
pub async fn rotate_all(store: &dyn Store, master_key: &MasterKey, now: i64) -> MgmtResult<String> {
    let keys = store.signing_keys().await?;
    verify_master_key(&keys, master_key).map_err(ManagementError::internal)?;
    let mut rs256_current = String::new();
    for alg in SigningAlg::ASYMMETRIC {
        let of = |s: KeyState| {
            keys.iter()
                .filter(move |k| k.alg == alg && k.state == s.as_str())
        };
        let new_current = match of(KeyState::Next).next() {
            Some(next) => {
                store
                    .set_signing_key_state(&next.kid, KeyState::Current.as_str(), now)
                    .await?;
                next.kid.clone()
            }
            None => {
                let key = generate(alg, KeyState::Current, master_key, now).await?;
                store.insert_signing_key(&key).await?;
                key.kid
            }
        };
        for old in of(KeyState::Current) {
            store
                .set_signing_key_state(&old.kid, KeyState::Previous.as_str(), now)
                .await?;
        }
        store
            .insert_signing_key(&generate(alg, KeyState::Next, master_key, now).await?)
            .await?;
        if alg == SigningAlg::RS256 {
            rs256_current = new_current;
        }
    }
    Ok(rs256_current)
}

/// Rotates every algorithm's key; answers with the new RS256 current key.
pub async fn rotate(State(state): State<AppState>) -> MgmtResult<(StatusCode, Json<Value>)> {
    let kid = rotate_all(state.store(), state.keys().master_key(), state.now()).await?;
    state
        .keys()
        .reload(state.store())
        .await
        .map_err(ManagementError::internal)?;
    let key = find(&state, &kid).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"kid": key.kid, "cert": pem(&key.cert_der)})),
    ))
}

/// Revokes a `previous` key: it leaves the JWKS and its tokens stop verifying.
pub async fn revoke(
    State(state): State<AppState>,
    MPath(kid): MPath<String>,
) -> MgmtResult<Json<Value>> {
    let key = find(&state, &kid).await?;
    if key.state != KeyState::Previous.as_str() {
        return Err(ManagementError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "Only a previous key can be revoked; this key is {}. Rotate first.",
                key.state
            ),
            "invalid_key_state",
        ));
    }
    state
        .store()
        .set_signing_key_state(&kid, KeyState::Revoked.as_str(), state.now())
        .await?;
    state
        .keys()
        .reload(state.store())
        .await
        .map_err(ManagementError::internal)?;
    Ok(Json(json!({"kid": key.kid, "cert": pem(&key.cert_der)})))
}
