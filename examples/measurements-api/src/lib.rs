//! The Measurements API of the seed 000 story, in Rust: an axum service whose
//! every route is guarded by `gatehouse-guard`.
//!
//! Run it against a local Gatehouse (see README.md):
//!
//! ```sh
//! cargo run -p measurements-api -- --issuer http://127.0.0.1:8080/
//! ```
//!
//! - `GET /api/measurements` needs `read:measurements`: the list as JSON.
//! - `POST /api/measurements` needs `write:measurements`: records
//!   `{"sensor": "greenhouse-1", "celsius": 21.5}` and answers 201.
//!
//! **Scope or permission.** The API accepts a token that grants the
//! scope in either `scope` or `permissions` ([`Claims::require`]). With RBAC
//! and "Add Permissions in the Access Token" (the seed's API), a user's token
//! lists every permission the user holds in `permissions`, and in `scope` only
//! those the application asked for; a machine-to-machine token has `scope`
//! only (its client grant). Checking one claim alone would refuse one of the
//! two.
//!
//! Measurements live in memory (the last [`MAX_MEASUREMENTS`]), so the
//! example needs nothing but the guard. CORS answers only the origins given
//! with `--allow-origin` (default the Angular example's
//! `http://localhost:4200`), for `GET` and `POST` with `Authorization`
//! and `Content-Type`, and exposes `WWW-Authenticate` so the SPA can read why
//! it was refused.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use gatehouse_guard::{AuthError, Claims, Guard, GuardConfig};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The scope (or permission) `GET /api/measurements` needs.
pub const READ: &str = "read:measurements";
/// The scope (or permission) `POST /api/measurements` needs.
pub const WRITE: &str = "write:measurements";
/// How many measurements are kept; older ones are dropped.
pub const MAX_MEASUREMENTS: usize = 1_000;
/// The route of both operations.
pub const MEASUREMENTS_PATH: &str = "/api/measurements";

/// Flags, each also read from the environment.
#[derive(Clone, Debug, clap::Parser)]
#[command(name = "measurements-api", version, about)]
pub struct Settings {
    /// Gatehouse's issuer URL (its discovery `issuer`, ending with `/`).
    #[arg(
        long,
        env = "MEASUREMENTS_ISSUER",
        default_value = "http://127.0.0.1:8080/"
    )]
    pub issuer: String,
    /// The API identifier tokens must carry in `aud` (the seed file's API).
    #[arg(
        long,
        env = "MEASUREMENTS_AUDIENCE",
        default_value = "https://measurements.example/api"
    )]
    pub audience: String,
    /// Where to listen; port 0 picks a free port (printed on stdout).
    #[arg(long, env = "MEASUREMENTS_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// A browser origin allowed to call the API (CORS); repeat for several.
    #[arg(
        long = "allow-origin",
        env = "MEASUREMENTS_ALLOW_ORIGIN",
        value_delimiter = ',',
        default_value = "http://localhost:4200"
    )]
    pub allow_origins: Vec<String>,
}

/// One temperature reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Assigned by the API.
    pub id: u64,
    /// Which sensor took it.
    pub sensor: String,
    /// Degrees Celsius.
    pub celsius: f64,
    /// Who recorded it: the token's `sub`.
    pub recorded_by: String,
}

/// The body of `POST /api/measurements`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMeasurement {
    sensor: String,
    celsius: f64,
}

/// The shared state: the guard and the measurements.
#[derive(Clone)]
pub struct AppState {
    guard: Guard,
    measurements: Arc<Mutex<Measurements>>,
}

impl FromRef<AppState> for Guard {
    fn from_ref(state: &AppState) -> Guard {
        state.guard.clone()
    }
}

struct Measurements {
    next_id: u64,
    items: VecDeque<Measurement>,
}

impl Measurements {
    fn with_samples() -> Self {
        let mut measurements = Self {
            next_id: 1,
            items: VecDeque::new(),
        };
        for (sensor, celsius) in [
            ("greenhouse-1", 21.5),
            ("greenhouse-2", 19.0),
            ("cellar", 12.25),
        ] {
            measurements.add(sensor.into(), celsius, "seed".into());
        }
        measurements
    }

    fn add(&mut self, sensor: String, celsius: f64, recorded_by: String) -> Measurement {
        let measurement = Measurement {
            id: self.next_id,
            sensor,
            celsius,
            recorded_by,
        };
        self.next_id += 1;
        if self.items.len() == MAX_MEASUREMENTS {
            self.items.pop_front();
        }
        self.items.push_back(measurement.clone());
        measurement
    }
}

/// A refused request: the guard's RFC 6750 answer, or a 400 for a body
/// that is not a valid measurement.
#[derive(Debug)]
pub enum ApiError {
    /// No, an invalid or an insufficient token.
    Auth(AuthError),
    /// The body is not a valid measurement.
    InvalidBody(String),
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        Self::Auth(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Auth(error) => error.into_response(),
            Self::InvalidBody(why) => (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({"error": "invalid_request", "error_description": why})),
            )
                .into_response(),
        }
    }
}

/// Why the settings cannot be used.
#[derive(Debug)]
pub struct SettingsError(pub String);

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

/// The guard for the settings' issuer and audience.
pub fn guard(settings: &Settings) -> Result<Guard, SettingsError> {
    Guard::new(GuardConfig::new(&settings.issuer, &settings.audience))
        .map_err(|e| SettingsError(format!("--issuer/--audience: {e}")))
}

/// The API for `settings`, guarded by `guard`: the routes, CORS.
pub fn app(settings: &Settings, guard: Guard) -> Result<Router, SettingsError> {
    let origins = settings
        .allow_origins
        .iter()
        .map(|origin| parse_origin(origin))
        .collect::<Result<Vec<_>, _>>()?;
    let state = AppState {
        guard,
        measurements: Arc::new(Mutex::new(Measurements::with_samples())),
    };
    Ok(router(state).layer(cors(origins)))
}

fn router(state: AppState) -> Router {
    Router::new()
        .route(MEASUREMENTS_PATH, get(list).post(record))
        .with_state(state)
}

/// An origin as browsers send it: `http(s)://host[:port]`, no path.
fn parse_origin(origin: &str) -> Result<HeaderValue, SettingsError> {
    let bad = || {
        SettingsError(format!(
            "--allow-origin {origin:?}: expected scheme://host[:port] without a path, \
             e.g. http://localhost:4200"
        ))
    };
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .ok_or_else(bad)?;
    if rest.is_empty() || rest.contains('/') {
        return Err(bad());
    }
    HeaderValue::from_str(origin).map_err(|_| bad())
}

fn cors(origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::WWW_AUTHENTICATE])
        .max_age(Duration::from_secs(600))
}

async fn list(
    State(state): State<AppState>,
    claims: Claims,
) -> Result<Json<Vec<Measurement>>, ApiError> {
    claims.require(READ)?;
    let measurements = lock(&state.measurements);
    Ok(Json(measurements.items.iter().cloned().collect()))
}

/// The token is checked first (the `Claims` extractor runs before the body
/// is read): a caller without a valid token learns nothing about the body.
async fn record(
    State(state): State<AppState>,
    claims: Claims,
    body: Result<Json<NewMeasurement>, JsonRejection>,
) -> Result<(StatusCode, Json<Measurement>), ApiError> {
    claims.require(WRITE)?;
    let Json(new) = body.map_err(|rejection| ApiError::InvalidBody(rejection.body_text()))?;
    check_measurement(&new).map_err(|why| ApiError::InvalidBody(why.into()))?;
    let recorded =
        lock(&state.measurements).add(new.sensor, new.celsius, claims.subject().to_string());
    Ok((StatusCode::CREATED, Json(recorded)))
}

/// A sensor name of 1–64 visible characters; a temperature that occurs on
/// Earth.
fn check_measurement(new: &NewMeasurement) -> Result<(), &'static str> {
    let length = new.sensor.chars().count();
    if length == 0 || length > 64 || new.sensor.chars().any(char::is_control) {
        return Err("sensor must be 1 to 64 characters, none of them control characters");
    }
    if !(-90.0..=60.0).contains(&new.celsius) {
        return Err("celsius must be between -90 and 60");
    }
    Ok(())
}

fn lock(measurements: &Mutex<Measurements>) -> std::sync::MutexGuard<'_, Measurements> {
    measurements
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_bare() {
        assert!(parse_origin("http://localhost:4200").is_ok());
        assert!(parse_origin("https://app.example").is_ok());
        for bad in [
            "localhost:4200",
            "http://localhost:4200/",
            "http://",
            "ftp://x",
            "*",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn measurements_are_checked() {
        let ok = |sensor: &str, celsius| {
            check_measurement(&NewMeasurement {
                sensor: sensor.into(),
                celsius,
            })
        };
        assert!(ok("greenhouse-1", 21.5).is_ok());
        assert!(ok("", 21.5).is_err());
        assert!(ok(&"x".repeat(65), 21.5).is_err());
        assert!(ok("a\nb", 21.5).is_err());
        assert!(ok("cellar", 61.0).is_err());
        assert!(ok("cellar", f64::NAN).is_err());
    }

    #[test]
    fn only_the_latest_measurements_are_kept() {
        let mut measurements = Measurements::with_samples();
        for i in 0..MAX_MEASUREMENTS {
            measurements.add(format!("s{i}"), 1.0, "t".into());
        }
        assert_eq!(measurements.items.len(), MAX_MEASUREMENTS);
        assert_eq!(
            measurements.items.front().map(|m| m.sensor.as_str()),
            Some("s0")
        );
    }
}
