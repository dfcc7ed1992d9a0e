//! The tenant's configuration objects, shaped like Auth0's Management API v2.
//!
//! These are shared by the store (which persists them), the grant decision
//! (which reads them) and the Management API (which renders them). Field names
//! and defaults follow auth0-compat.md §6 so objects round-trip through Auth0
//! SDKs unchanged.

use serde::{Deserialize, Serialize};

/// The name of the built-in database connection (auth0-compat.md §8).
pub const DEFAULT_CONNECTION: &str = "Username-Password-Authentication";

/// Tenant-wide settings (`GET /api/v2/tenants/settings`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct TenantSettings {
    /// The tenant's display name.
    pub friendly_name: String,
    /// Audience used when a request names none (auth0-compat.md §3).
    pub default_audience: Option<String>,
    /// Gatehouse extension: with no audience, pick the one API that defines all
    /// requested custom scopes (story 2 of SPEC.md).
    pub infer_audience_from_scope: bool,
    /// Connection used by the plain `password` grant.
    pub default_directory: String,
    /// SSO session lifetime in hours.
    pub session_lifetime: u64,
    /// SSO session idle lifetime in hours.
    pub idle_session_lifetime: u64,
    /// Where logout may return to when the request names no client.
    pub allowed_logout_urls: Vec<String>,
    /// Blocking an IP for a user after failed logins.
    pub brute_force_protection: BruteForceProtection,
    /// Gatehouse's rate limits (auth0-compat.md §7 "Rate limits").
    pub rate_limits: RateLimits,
    /// Auth0's tenant flags.
    pub flags: TenantFlags,
}

/// Auth0's tenant flags that change what Gatehouse serves.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct TenantFlags {
    /// List `end_session_endpoint` (`/oidc/logout`) in discovery
    /// (auth0-compat.md §5); the endpoint is served either way.
    pub rp_logout_end_session_endpoint_discovery: bool,
    /// `/dbconnections/signup` answers a taken email with `user_exists`
    /// ("The user already exists.") instead of Auth0's default, the generic
    /// `invalid_signup`, which does not tell that the account exists.
    pub enable_public_signup_user_exists_error: bool,
}

/// Auth0's brute-force protection (auth0-compat.md §7): after `max_attempts`
/// failed logins from one IP for one identifier, that IP is blocked for that
/// user for 30 days or until a successful password change.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct BruteForceProtection {
    /// Whether failed logins are counted and blocked.
    pub enabled: bool,
    /// 1 to 100; Auth0's default is 10.
    pub max_attempts: u32,
}

impl Default for BruteForceProtection {
    fn default() -> Self {
        Self {
            enabled: true,
            max_attempts: 10,
        }
    }
}

/// Rate limits in fixed windows of `window_seconds`, counted in the database
/// so all nodes share them. At the token endpoint and the login page only
/// *failed* authentications count (successful traffic is never throttled),
/// per IP and per account from any IP (password spraying); signup attempts
/// count per IP (signup enumeration); Management API requests per client.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RateLimits {
    /// Whether the limits apply.
    pub enabled: bool,
    /// The length of one counting window.
    pub window_seconds: u32,
    /// Failed password checks one IP may make per window.
    pub failed_logins_per_ip: u32,
    /// Failed password checks against one account per window, from any IP.
    pub failed_logins_per_account: u32,
    /// Signups one IP may attempt per window.
    pub signups_per_ip: u32,
    /// Management API requests one client may make per window.
    pub management_requests_per_client: u32,
    /// Emails (password reset, verification) one IP may ask for per window.
    pub emails_per_ip: u32,
    /// Emails one address may be sent on request per window, from any IP.
    pub emails_per_address: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            window_seconds: 60,
            failed_logins_per_ip: 100,
            failed_logins_per_account: 50,
            signups_per_ip: 10,
            management_requests_per_client: 3000,
            emails_per_ip: 10,
            emails_per_address: 3,
        }
    }
}

/// How long a brute-force block lasts.
pub const BRUTE_FORCE_BLOCK_SECONDS: i64 = 30 * 86_400;

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            friendly_name: "Gatehouse".into(),
            default_audience: None,
            infer_audience_from_scope: false,
            default_directory: DEFAULT_CONNECTION.into(),
            session_lifetime: 72,
            idle_session_lifetime: 72,
            allowed_logout_urls: Vec::new(),
            brute_force_protection: BruteForceProtection::default(),
            rate_limits: RateLimits::default(),
            flags: TenantFlags::default(),
        }
    }
}

/// JWS algorithms Gatehouse signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
    /// HMAC-SHA256 under the API's signing secret.
    HS256,
}

impl SigningAlg {
    /// The JOSE `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
            Self::HS256 => "HS256",
        }
    }
    /// The algorithm a JOSE `alg` names, if Gatehouse signs with it.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "RS256" => Self::RS256,
            "PS256" => Self::PS256,
            "ES256" => Self::ES256,
            "EdDSA" => Self::EdDSA,
            "HS256" => Self::HS256,
            _ => return None,
        })
    }
    /// The asymmetric algorithms that have key pairs in the key store.
    pub const ASYMMETRIC: [SigningAlg; 4] = [Self::RS256, Self::PS256, Self::ES256, Self::EdDSA];
}

/// The access-token claim layout of an API (auth0-compat.md §3, "Token dialects").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenDialect {
    /// Auth0's claims (`azp`, `gty`, `scope`).
    #[default]
    AccessToken,
    /// Auth0's claims plus `permissions`.
    AccessTokenAuthz,
    /// RFC 9068 claims (`client_id`, `typ: at+jwt`).
    #[serde(rename = "rfc9068_profile")]
    Rfc9068Profile,
    /// RFC 9068 claims plus `permissions`.
    #[serde(rename = "rfc9068_profile_authz")]
    Rfc9068ProfileAuthz,
}

impl TokenDialect {
    /// The `_authz` dialects add the `permissions` claim.
    pub fn includes_permissions(self) -> bool {
        matches!(self, Self::AccessTokenAuthz | Self::Rfc9068ProfileAuthz)
    }
    /// The RFC 9068 dialects use its claim names and `typ`.
    pub fn is_rfc9068(self) -> bool {
        matches!(self, Self::Rfc9068Profile | Self::Rfc9068ProfileAuthz)
    }
}

/// A scope an API defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopeDefinition {
    /// The scope's name.
    pub value: String,
    /// What the consent page shows for it.
    #[serde(default)]
    pub description: String,
}

/// `subject_type_authorization.user.policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserAccessPolicy {
    /// Every client may get user tokens for the API.
    #[default]
    AllowAll,
    /// Only clients with a user client grant may.
    RequireClientGrant,
    /// No client may.
    DenyAll,
}

/// `subject_type_authorization.client.policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClientAccessPolicy {
    /// Only clients with a client grant may.
    #[default]
    RequireClientGrant,
    /// No client may.
    DenyAll,
}

/// `subject_type_authorization.user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPolicy {
    /// Who may get user tokens for the API.
    pub policy: UserAccessPolicy,
}

/// `subject_type_authorization.client`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientPolicy {
    /// Who may get client-credentials tokens for the API.
    pub policy: ClientAccessPolicy,
}

/// An API's access policy for user flows and for client credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubjectTypeAuthorization {
    /// Policy for user flows.
    #[serde(default)]
    pub user: UserPolicy,
    /// Policy for client credentials.
    #[serde(default)]
    pub client: ClientPolicy,
}

/// A resource server (an API) that access tokens are issued for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourceServer {
    /// Auth0's object id.
    pub id: String,
    /// The display name.
    pub name: String,
    /// The audience; immutable once created.
    pub identifier: String,
    /// The built-in Management API; not editable.
    #[serde(default)]
    pub is_system: bool,
    /// The scopes the API defines.
    #[serde(default)]
    pub scopes: Vec<ScopeDefinition>,
    /// How its access tokens are signed.
    #[serde(default = "default_rs_alg")]
    pub signing_alg: SigningAlg,
    /// Only for HS256 APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// Whether `offline_access` yields refresh tokens for it.
    #[serde(default)]
    pub allow_offline_access: bool,
    /// First-party clients on a verifiable host skip the consent page.
    #[serde(default)]
    pub skip_consent_for_verifiable_first_party_clients: bool,
    /// Access-token lifetime in seconds.
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime: u64,
    /// Access-token lifetime in seconds for the implicit flow, capped at
    /// `token_lifetime`.
    #[serde(default = "default_token_lifetime_for_web")]
    pub token_lifetime_for_web: u64,
    /// RBAC: user flows get requested ∩ the user's permissions.
    #[serde(default)]
    pub enforce_policies: bool,
    /// The access-token claim layout.
    #[serde(default)]
    pub token_dialect: TokenDialect,
    /// Which clients may get tokens for it, per subject type.
    #[serde(default)]
    pub subject_type_authorization: SubjectTypeAuthorization,
}

fn default_rs_alg() -> SigningAlg {
    SigningAlg::RS256
}
/// Auth0's default access-token lifetime: one day.
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: u64 = 86_400;
/// The longest access-token lifetime Auth0 accepts: 30 days.
pub const MAX_ACCESS_TOKEN_LIFETIME: u64 = 2_592_000;
fn default_token_lifetime() -> u64 {
    DEFAULT_ACCESS_TOKEN_LIFETIME
}
fn default_token_lifetime_for_web() -> u64 {
    7_200
}

impl ResourceServer {
    /// A new API with Auth0's defaults.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        identifier: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            identifier: identifier.into(),
            is_system: false,
            scopes: Vec::new(),
            signing_alg: SigningAlg::RS256,
            signing_secret: None,
            allow_offline_access: false,
            skip_consent_for_verifiable_first_party_clients: true,
            token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            token_lifetime_for_web: 7_200,
            enforce_policies: false,
            token_dialect: TokenDialect::AccessToken,
            subject_type_authorization: SubjectTypeAuthorization::default(),
        }
    }

    /// Whether the API defines `scope`.
    pub fn defines_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.value == scope)
    }
}

/// The kind of application, which sets its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AppType {
    /// Single-page application: public, in a browser.
    Spa,
    /// Mobile or desktop application: public.
    Native,
    /// Server-side web application: confidential.
    #[default]
    RegularWeb,
    /// Machine to machine: client credentials only.
    NonInteractive,
}

/// How a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// A public client: no authentication.
    None,
    /// `client_secret` in the body.
    #[default]
    ClientSecretPost,
    /// `client_secret` in HTTP Basic.
    ClientSecretBasic,
    /// A JWT signed with a registered key (RFC 7523).
    PrivateKeyJwt,
}

/// Whether a refresh token is replaced at each use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RotationType {
    /// Each use returns a new refresh token and retires the old one.
    #[serde(rename = "rotating")]
    Rotating,
    /// The same refresh token serves every use.
    #[default]
    #[serde(rename = "non-rotating")]
    NonRotating,
}

/// Whether refresh tokens expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExpirationType {
    /// The lifetimes of [`RefreshTokenSettings`] apply.
    #[serde(rename = "expiring")]
    Expiring,
    /// Refresh tokens live until revoked.
    #[default]
    #[serde(rename = "non-expiring")]
    NonExpiring,
}

/// The client's `refresh_token` settings (auth0-compat.md §2, "Refresh tokens").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RefreshTokenSettings {
    /// Whether a refresh token is replaced at each use.
    pub rotation_type: RotationType,
    /// Whether refresh tokens expire.
    pub expiration_type: ExpirationType,
    /// Seconds a rotated token may still be reused (only the immediate predecessor).
    pub leeway: u64,
    /// Absolute lifetime in seconds, not extended by rotation.
    pub token_lifetime: u64,
    /// Ignore `token_lifetime`.
    pub infinite_token_lifetime: bool,
    /// Seconds of inactivity after which the family expires.
    pub idle_token_lifetime: u64,
    /// Ignore `idle_token_lifetime`.
    pub infinite_idle_token_lifetime: bool,
}

/// Auth0's default absolute refresh-token lifetime: 30 days.
pub const DEFAULT_REFRESH_TOKEN_LIFETIME: u64 = 2_592_000;
/// The longest refresh-token lifetime Auth0 accepts: one year.
pub const MAX_REFRESH_TOKEN_LIFETIME: u64 = 31_557_600;

impl Default for RefreshTokenSettings {
    fn default() -> Self {
        Self {
            rotation_type: RotationType::NonRotating,
            expiration_type: ExpirationType::NonExpiring,
            leeway: 0,
            token_lifetime: DEFAULT_REFRESH_TOKEN_LIFETIME,
            infinite_token_lifetime: true,
            idle_token_lifetime: 1_296_000,
            infinite_idle_token_lifetime: true,
        }
    }
}

impl RefreshTokenSettings {
    /// SPAs always get expiring, rotating refresh tokens.
    pub fn for_spa() -> Self {
        Self {
            rotation_type: RotationType::Rotating,
            expiration_type: ExpirationType::Expiring,
            infinite_token_lifetime: false,
            infinite_idle_token_lifetime: false,
            ..Self::default()
        }
    }
}

/// `jwt_configuration`: ID token signing and lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct JwtConfiguration {
    /// How ID tokens are signed.
    pub alg: SigningAlg,
    /// ID-token lifetime.
    pub lifetime_in_seconds: u64,
}

/// Auth0's default ID-token lifetime: ten hours.
pub const DEFAULT_ID_TOKEN_LIFETIME: u64 = 36_000;

impl Default for JwtConfiguration {
    fn default() -> Self {
        Self {
            alg: SigningAlg::RS256,
            lifetime_in_seconds: DEFAULT_ID_TOKEN_LIFETIME,
        }
    }
}

/// A public key registered for `private_key_jwt` client authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientAuthenticationKey {
    /// The key id a client assertion names in its header.
    #[serde(default)]
    pub kid: Option<String>,
    /// The public key as a JWK object.
    pub jwk: serde_json::Value,
}

/// An application (`/api/v2/clients`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Client {
    /// The public client id.
    pub client_id: String,
    /// The display name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The kind of application.
    #[serde(default)]
    pub app_type: AppType,
    /// First-party clients belong to the tenant; third-party ones need client grants and consent.
    #[serde(default = "yes")]
    pub is_first_party: bool,
    /// How it authenticates at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// The grant types it may use.
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Allowed `redirect_uri` values.
    #[serde(default)]
    pub callbacks: Vec<String>,
    /// Where logout may return to.
    #[serde(default)]
    pub allowed_logout_urls: Vec<String>,
    /// Origins allowed for silent authentication (`web_message`).
    #[serde(default)]
    pub web_origins: Vec<String>,
    /// Origins allowed to call the token endpoints (CORS).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// ID-token signing and lifetime.
    #[serde(default)]
    pub jwt_configuration: JwtConfiguration,
    /// Refresh-token rotation and lifetimes.
    #[serde(default)]
    pub refresh_token: RefreshTokenSettings,
    /// Gatehouse extension: accept PKCE `plain` (S256 only by default).
    #[serde(default)]
    pub allow_plain_pkce: bool,
    /// Public keys for `private_key_jwt`.
    #[serde(default)]
    pub client_authentication_keys: Vec<ClientAuthenticationKey>,
    /// Auth0's setting: the end user's IP in `auth0-forwarded-for` is
    /// believed (for attack protection) only from a confidential client with
    /// this on; otherwise the peer address counts.
    #[serde(default)]
    pub token_endpoint_ip_header_trusted: bool,
}

fn yes() -> bool {
    true
}

impl Client {
    /// A new client with Auth0's defaults for `app_type`.
    pub fn new(client_id: impl Into<String>, name: impl Into<String>, app_type: AppType) -> Self {
        let refresh_token = if app_type == AppType::Spa {
            RefreshTokenSettings::for_spa()
        } else {
            RefreshTokenSettings::default()
        };
        Self {
            client_id: client_id.into(),
            name: name.into(),
            description: String::new(),
            app_type,
            is_first_party: true,
            token_endpoint_auth_method: if app_type == AppType::Spa || app_type == AppType::Native {
                TokenEndpointAuthMethod::None
            } else {
                TokenEndpointAuthMethod::ClientSecretPost
            },
            grant_types: default_grant_types(app_type),
            callbacks: Vec::new(),
            allowed_logout_urls: Vec::new(),
            web_origins: Vec::new(),
            allowed_origins: Vec::new(),
            jwt_configuration: JwtConfiguration::default(),
            refresh_token,
            allow_plain_pkce: false,
            client_authentication_keys: Vec::new(),
            token_endpoint_ip_header_trusted: false,
        }
    }

    /// Whether `grant_type` is in the client's `grant_types`.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// Whether this client's `auth0-forwarded-for` header names the end
    /// user's IP: only a confidential client (it proved itself with a secret
    /// or an assertion) with `token_endpoint_ip_header_trusted` on.
    pub fn trusts_forwarded_ip(&self) -> bool {
        self.token_endpoint_ip_header_trusted && !self.is_public()
    }

    /// A client that cannot keep a secret.
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == TokenEndpointAuthMethod::None
    }
}

/// Auth0's default `grant_types` per application type.
pub fn default_grant_types(app_type: AppType) -> Vec<String> {
    let list: &[&str] = match app_type {
        AppType::Spa => &["authorization_code", "implicit", "refresh_token"],
        AppType::Native => &[
            "authorization_code",
            "implicit",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        AppType::RegularWeb => &[
            "authorization_code",
            "implicit",
            "refresh_token",
            "client_credentials",
        ],
        AppType::NonInteractive => &["client_credentials"],
    };
    list.iter().map(|s| s.to_string()).collect()
}

/// Whom a client grant's tokens are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// The client itself (client credentials).
    #[default]
    Client,
    /// A user (the user flows).
    User,
}

/// A client grant: which scopes of an API a client may get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientGrant {
    /// Auth0's object id.
    pub id: String,
    /// The client it applies to; `None` for a `default_for` grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `third_party_clients`: applies to every third-party client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_for: Option<String>,
    /// The API identifier.
    pub audience: String,
    /// The scopes granted.
    #[serde(default)]
    pub scope: Vec<String>,
    /// Whether it serves client credentials or user flows.
    #[serde(default)]
    pub subject_type: SubjectType,
    /// Grants every scope the API defines, now and later.
    #[serde(default)]
    pub allow_all_scopes: bool,
}

impl ClientGrant {
    /// Whether this grant speaks for `client` on `audience` for `subject_type`.
    pub fn applies_to(&self, client: &Client, audience: &str, subject_type: SubjectType) -> bool {
        if self.audience != audience || self.subject_type != subject_type {
            return false;
        }
        match (&self.client_id, &self.default_for) {
            (Some(id), _) => id == &client.client_id,
            (None, Some(d)) => d == "third_party_clients" && !client.is_first_party,
            (None, None) => false,
        }
    }

    /// True when the grant covers `scope` for `api`.
    pub fn covers(&self, scope: &str, api: &ResourceServer) -> bool {
        self.scope.iter().any(|s| s == scope) || (self.allow_all_scopes && api.defines_scope(scope))
    }
}

/// A user of the database connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// `auth0|` and 24 hex digits.
    pub user_id: String,
    /// The database connection's name.
    pub connection: String,
    /// The login identifier.
    pub email: Option<String>,
    /// Whether the email was verified.
    #[serde(default)]
    pub email_verified: bool,
    /// Profile: full name.
    pub name: Option<String>,
    /// Profile: nickname.
    pub nickname: Option<String>,
    /// Profile: given name.
    pub given_name: Option<String>,
    /// Profile: family name.
    pub family_name: Option<String>,
    /// Profile: picture URL.
    pub picture: Option<String>,
    /// A blocked user cannot log in or refresh.
    #[serde(default)]
    pub blocked: bool,
    /// Data the application owns; the user cannot change it.
    #[serde(default = "empty_object")]
    pub app_metadata: serde_json::Value,
    /// Data the user may change.
    #[serde(default = "empty_object")]
    pub user_metadata: serde_json::Value,
    /// Seconds since the epoch.
    pub created_at: i64,
    /// Seconds since the epoch.
    pub updated_at: i64,
    /// Seconds since the epoch.
    pub last_login: Option<i64>,
    /// Successful logins.
    #[serde(default)]
    pub logins_count: i64,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

impl User {
    /// A new database user with Auth0's derived profile defaults.
    pub fn new(user_id: impl Into<String>, email: &str, now: i64) -> Self {
        let local = email.split('@').next().unwrap_or(email).to_string();
        Self {
            user_id: user_id.into(),
            connection: DEFAULT_CONNECTION.into(),
            email: Some(email.to_string()),
            email_verified: false,
            name: Some(email.to_string()),
            nickname: Some(local),
            given_name: None,
            family_name: None,
            picture: None,
            blocked: false,
            app_metadata: empty_object(),
            user_metadata: empty_object(),
            created_at: now,
            updated_at: now,
            last_login: None,
            logins_count: 0,
        }
    }

    /// How the trace names the user: email, else user_id.
    pub fn display_name(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.user_id)
    }
}

/// A permission: a scope of one API.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct Permission {
    /// The API identifier.
    pub resource_server_identifier: String,
    /// A scope the API defines.
    pub permission_name: String,
}

/// A role: a named bundle of permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Role {
    /// Auth0's object id.
    pub id: String,
    /// The display name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// Where a user's permission comes from, for the trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PermissionSource {
    /// Assigned to the user directly.
    Direct,
    /// Through a role.
    Role {
        /// The role's id.
        role_id: String,
        /// The role's name.
        role_name: String,
    },
}

/// One of a user's effective permissions on an API, with its sources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectivePermission {
    /// A scope the API defines.
    pub permission_name: String,
    /// Every way the user holds it.
    pub sources: Vec<PermissionSource>,
}
