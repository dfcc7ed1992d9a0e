//! The shapes of replies that handlers assemble as JSON rather than serialize
//! from one type, described for the OpenAPI document ([`super::openapi`]).
//! These types are never built: they only carry schemas. The Python suite
//! (tests/python/test_openapi.py) validates real replies against them, so a
//! handler that changes its shape fails there.

use gatehouse_core::model::{Client, ClientGrant};
use utoipa::ToSchema;

/// Every Management API error, as Auth0 renders it.
#[derive(Debug, ToSchema)]
#[schema(as = Error)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The HTTP status again.
    pub status_code: u16,
    /// The status's reason phrase, e.g. `Not Found`.
    pub error: String,
    pub message: String,
    /// A stable code such as `inexistent_user`; absent on internal errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
}

/// `GET /stats/active-users`: a bare number.
#[derive(Debug, ToSchema)]
pub struct ActiveUsers(pub i64);

/// An application as a write returns it: `client_secret`, in plain text,
/// appears only in the replies to create, to rotate-secret and to an update
/// that makes a public client confidential.
#[derive(Debug, ToSchema)]
pub struct ClientWithSecret {
    #[serde(flatten)]
    pub client: Client,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// A client grant with Auth0's organization fields (organizations are not
/// supported, so they are always `deny` and `false`).
#[derive(Debug, ToSchema)]
#[schema(as = ClientGrantWithOrganizations)]
pub struct ClientGrantView {
    #[serde(flatten)]
    pub grant: ClientGrant,
    /// Always `deny`.
    pub organization_usage: String,
    /// Always `false`.
    pub allow_any_organization: bool,
}

/// A user holding a role, in `GET /roles/{id}/users`.
#[derive(Debug, ToSchema)]
pub struct RoleMember {
    pub user_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub picture: Option<String>,
}

/// The brute-force blocks of a user or an identifier.
#[derive(Debug, ToSchema)]
pub struct UserBlocks {
    pub blocked_for: Vec<Block>,
}

/// One blocked (identifier, IP) pair.
#[derive(Debug, ToSchema)]
pub struct Block {
    /// The lowercased identifier typed at login.
    pub identifier: String,
    pub ip: String,
    pub connection: String,
}
