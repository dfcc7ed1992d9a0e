//! The Management API v2 under `/api/v2/` (auth0-compat.md §6 and §8).
//!
//! - [`routes()`]: the route table — method, path, accepted scopes, summary,
//!   request and reply types and handler of every endpoint. The router and
//!   the OpenAPI description ([`openapi`], schemas derived with utoipa from
//!   the types, [`schemas`] for replies assembled as JSON) are both generated
//!   from it, so they cannot drift.
//! - [`auth`]: Bearer tokens for `<issuer>api/v2/` and the per-route scope guard.
//! - [`error`]: `{statusCode, error, message, errorCode}`, rendered in one place.
//! - [`extract`]: JSON body, query and path extractors with that error shape.
//! - [`pagination`] handles `page`, `per_page` and `include_totals`.
//! - One file per resource: [`users`] (with [`user_links`] for roles and
//!   permissions), [`roles`], [`resource_servers`],
//!   [`clients`], [`client_grants`], [`connections`], [`keys`], [`logs`],
//!   [`tenants`], [`user_blocks`], [`stats`], [`actions`] (Actions, triggers,
//!   bindings, executions), [`tickets`] (password-change and
//!   email-verification links), [`jobs`] (the verification-email job),
//!   [`email_templates`] and [`emails_provider`] (the mails' Liquid
//!   templates and the tenant's SMTP server).
//! - Gatehouse's extensions under `/x-gatehouse/`: [`explain`], [`simulate`].
//! - [`not_implemented`]: 501 for the Auth0 paths Gatehouse does not serve.

pub mod actions;
pub mod auth;
pub mod client_grants;
pub mod clients;
pub mod connections;
pub mod email_templates;
pub mod emails_provider;
pub mod error;
pub mod explain;
pub mod extract;
pub mod jobs;
pub mod keys;
pub mod logs;
pub mod not_implemented;
pub mod openapi;
pub mod pagination;
pub mod render;
pub mod resource_servers;
pub mod roles;
pub mod schemas;
pub mod scopes;
pub mod simulate;
pub mod stats;
pub mod tenants;
pub mod tickets;
pub mod user_blocks;
pub mod user_links;
pub mod users;

use crate::state::AppState;
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::routing::{get, on, MethodFilter, MethodRouter};
use axum::Router;
use error::ManagementError;

/// HTTP methods the Management API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    fn filter(self) -> MethodFilter {
        match self {
            Self::Get => MethodFilter::GET,
            Self::Post => MethodFilter::POST,
            Self::Put => MethodFilter::PUT,
            Self::Patch => MethodFilter::PATCH,
            Self::Delete => MethodFilter::DELETE,
        }
    }

    /// The lowercase name OpenAPI uses.
    pub fn as_openapi(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Put => "put",
            Self::Patch => "patch",
            Self::Delete => "delete",
        }
    }
}

/// What the OpenAPI description says about one endpoint.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub method: Method,
    /// Relative to `/api/v2`, with `{param}` placeholders.
    pub path: &'static str,
    /// Any one of these grants access.
    pub scopes: &'static [&'static str],
    /// End-user scopes (auth0-compat.md §9) that grant access too, but only to a
    /// user's token acting on that user's own `{id}`.
    pub self_service: &'static [&'static str],
    pub summary: &'static str,
    /// The success status.
    pub status: u16,
    /// Whether the endpoint takes a JSON body.
    pub body: bool,
    /// The body's schema (when `body`).
    pub request: Option<openapi::SchemaFn>,
    /// What the success reply carries.
    pub reply: openapi::Reply,
    /// Query parameters it reads.
    pub query: &'static [&'static str],
}

/// One row of the route table.
pub struct Route {
    pub endpoint: Endpoint,
    pub handler: MethodRouter<AppState>,
}

fn route<H, T>(endpoint: Endpoint, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route {
        handler: on(endpoint.method.filter(), handler),
        endpoint,
    }
}

const PAGING: &[&str] = &["page", "per_page", "include_totals"];

macro_rules! ep {
    ($method:ident $path:literal, $scopes:expr, $status:literal, body = $body:expr, reply = $reply:expr, query = $query:expr, $summary:literal) => {
        ep!($method $path, $scopes, $status, body = $body, reply = $reply, query = $query, $summary, self_service = &[])
    };
    ($method:ident $path:literal, $scopes:expr, $status:literal, body = $body:expr, reply = $reply:expr, query = $query:expr, $summary:literal, self_service = $self_service:expr) => {{
        let request: Option<openapi::SchemaFn> = $body;
        Endpoint {
            method: Method::$method,
            path: $path,
            scopes: $scopes,
            self_service: $self_service,
            summary: $summary,
            status: $status,
            body: request.is_some(),
            request,
            reply: $reply,
            query: $query,
        }
    }};
}

/// Every endpoint of the Management API.
pub fn routes() -> Vec<Route> {
    use client_grants as cg;
    use gatehouse_core::model::{Client, ResourceServer, Role, TenantSettings};
    use openapi::schema as s;
    use openapi::Reply::{Array, Checkpointed, Empty, One, Paged};
    use render::{PermissionView, UserView};
    use resource_servers as rs;
    use schemas::{ClientGrantView, ClientWithSecret, RoleMember, UserBlocks};
    const READ_USERS: &[&str] = &["read:users"];
    const UPDATE_USERS: &[&str] = &["update:users"];
    vec![
        // Users
        route(
            ep!(Get "/users", READ_USERS, 200, body = None, reply = Paged(s::<UserView>, "users"),
            query = &["q", "search_engine", "sort", "fields", "include_fields", "connection", "page", "per_page", "include_totals"],
            "List or search users"),
            users::list,
        ),
        route(
            ep!(Post "/users", &["create:users"], 201, body = Some(s::<users::CreateUser>), reply = One(s::<UserView>), query = &[], "Create a user"),
            users::create,
        ),
        route(
            ep!(Get "/users/{id}", READ_USERS, 200, body = None, reply = One(s::<UserView>), query = &["fields", "include_fields"], "Get a user",
            self_service = &["read:current_user"]),
            users::get_one,
        ),
        route(
            ep!(Patch "/users/{id}", &["update:users", "update:users_app_metadata"], 200, body = Some(s::<users::UpdateUser>), reply = One(s::<UserView>), query = &[], "Update a user",
            self_service = &["create:current_user_metadata", "update:current_user_metadata", "delete:current_user_metadata"]),
            users::update,
        ),
        route(
            ep!(Delete "/users/{id}", &["delete:users"], 204, body = None, reply = Empty, query = &[], "Delete a user"),
            users::delete,
        ),
        route(
            ep!(Get "/users/{id}/roles", &["read:users", "read:roles", "read:role_members"], 200, body = None, reply = Paged(s::<Role>, "roles"), query = PAGING, "List a user's roles"),
            user_links::roles,
        ),
        route(
            ep!(Post "/users/{id}/roles", &["update:users", "create:role_members"], 200, body = Some(s::<user_links::RolesBody>), reply = Empty, query = &[], "Assign roles to a user"),
            user_links::assign_roles,
        ),
        route(
            ep!(Delete "/users/{id}/roles", &["update:users", "delete:role_members"], 200, body = Some(s::<user_links::RolesBody>), reply = Empty, query = &[], "Remove roles from a user"),
            user_links::remove_roles,
        ),
        route(
            ep!(Get "/users/{id}/permissions", READ_USERS, 200, body = None, reply = Paged(s::<PermissionView>, "permissions"), query = PAGING, "List a user's permissions"),
            user_links::permissions,
        ),
        route(
            ep!(Post "/users/{id}/permissions", UPDATE_USERS, 200, body = Some(s::<roles::PermissionsBody>), reply = Empty, query = &[], "Assign permissions to a user"),
            user_links::add_permissions,
        ),
        route(
            ep!(Delete "/users/{id}/permissions", UPDATE_USERS, 200, body = Some(s::<roles::PermissionsBody>), reply = Empty, query = &[], "Remove permissions from a user"),
            user_links::remove_permissions,
        ),
        route(
            ep!(Get "/users/{id}/logs", &["read:logs", "read:logs_users"], 200, body = None, reply = Paged(s::<logs::LogEventView>, "logs"),
            query = &["sort", "page", "per_page", "include_totals"], "List a user's log events"),
            logs::list_for_user,
        ),
        route(
            ep!(Get "/users-by-email", READ_USERS, 200, body = None, reply = Array(s::<UserView>), query = &["email", "fields", "include_fields"], "Find the users with an email (case-insensitive)"),
            users::by_email,
        ),
        // Stats
        route(
            ep!(Get "/stats/active-users", &["read:stats"], 200, body = None, reply = One(s::<schemas::ActiveUsers>), query = &[], "Count the users who logged in during the last 30 days"),
            stats::active_users,
        ),
        route(
            ep!(Get "/stats/daily", &["read:stats"], 200, body = None, reply = Array(s::<stats::DailyStats>), query = &["from", "to"], "Logins and signups per day (UTC) from 'from' to 'to' (YYYYMMDD, inclusive)"),
            stats::daily,
        ),
        // User blocks (brute-force protection)
        route(
            ep!(Get "/user-blocks", READ_USERS, 200, body = None, reply = One(s::<UserBlocks>), query = &["identifier"], "List the blocks of an identifier"),
            user_blocks::get_for_identifier,
        ),
        route(
            ep!(Delete "/user-blocks", UPDATE_USERS, 204, body = None, reply = Empty, query = &["identifier"], "Remove the blocks of an identifier"),
            user_blocks::delete_for_identifier,
        ),
        route(
            ep!(Get "/user-blocks/{id}", READ_USERS, 200, body = None, reply = One(s::<UserBlocks>), query = &[], "List a user's blocks"),
            user_blocks::get_for_user,
        ),
        route(
            ep!(Delete "/user-blocks/{id}", UPDATE_USERS, 204, body = None, reply = Empty, query = &[], "Remove a user's blocks"),
            user_blocks::delete_for_user,
        ),
        // Tickets and jobs (email)
        route(
            ep!(Post "/tickets/password-change", &["create:user_tickets"], 201, body = Some(s::<tickets::PasswordChangeTicket>), reply = One(s::<tickets::TicketView>), query = &[], "Create a password-change link for a user"),
            tickets::password_change,
        ),
        route(
            ep!(Post "/tickets/email-verification", &["create:user_tickets"], 201, body = Some(s::<tickets::EmailVerificationTicket>), reply = One(s::<tickets::TicketView>), query = &[], "Create an email-verification link for a user"),
            tickets::email_verification,
        ),
        route(
            ep!(Post "/jobs/verification-email", UPDATE_USERS, 201, body = Some(s::<jobs::VerificationEmailJob>), reply = One(s::<jobs::JobView>), query = &[], "Send a user the verification email"),
            jobs::verification_email,
        ),
        route(
            ep!(Get "/jobs/{id}", &["create:users", "read:users", "update:users"], 200, body = None, reply = One(s::<jobs::JobView>), query = &[], "Get a job"),
            jobs::get_one,
        ),
        // Roles
        route(
            ep!(Get "/roles", &["read:roles"], 200, body = None, reply = Paged(s::<Role>, "roles"), query = &["name_filter", "page", "per_page", "include_totals"], "List roles"),
            roles::list,
        ),
        route(
            ep!(Post "/roles", &["create:roles"], 200, body = Some(s::<roles::CreateRole>), reply = One(s::<Role>), query = &[], "Create a role"),
            roles::create,
        ),
        route(
            ep!(Get "/roles/{id}", &["read:roles"], 200, body = None, reply = One(s::<Role>), query = &[], "Get a role"),
            roles::get_one,
        ),
        route(
            ep!(Patch "/roles/{id}", &["update:roles"], 200, body = Some(s::<roles::UpdateRole>), reply = One(s::<Role>), query = &[], "Update a role"),
            roles::update,
        ),
        route(
            ep!(Delete "/roles/{id}", &["delete:roles"], 200, body = None, reply = Empty, query = &[], "Delete a role"),
            roles::delete,
        ),
        route(
            ep!(Get "/roles/{id}/permissions", &["read:roles"], 200, body = None, reply = Paged(s::<PermissionView>, "permissions"), query = PAGING, "List a role's permissions"),
            roles::permissions,
        ),
        route(
            ep!(Post "/roles/{id}/permissions", &["update:roles"], 200, body = Some(s::<roles::PermissionsBody>), reply = Empty, query = &[], "Add permissions to a role"),
            roles::add_permissions,
        ),
        route(
            ep!(Delete "/roles/{id}/permissions", &["update:roles"], 200, body = Some(s::<roles::PermissionsBody>), reply = Empty, query = &[], "Remove permissions from a role"),
            roles::remove_permissions,
        ),
        route(
            ep!(Get "/roles/{id}/users", &["read:roles", "read:role_members", "read:users"], 200, body = None, reply = Paged(s::<RoleMember>, "users"), query = PAGING, "List a role's users"),
            roles::users,
        ),
        route(
            ep!(Post "/roles/{id}/users", &["update:roles", "create:role_members"], 200, body = Some(s::<roles::UsersBody>), reply = Empty, query = &[], "Assign users to a role"),
            roles::assign_users,
        ),
        // Resource servers
        route(
            ep!(Get "/resource-servers", &["read:resource_servers"], 200, body = None, reply = Paged(s::<ResourceServer>, "resource_servers"), query = PAGING, "List APIs"),
            rs::list,
        ),
        route(
            ep!(Post "/resource-servers", &["create:resource_servers"], 201, body = Some(s::<rs::CreateResourceServer>), reply = One(s::<ResourceServer>), query = &[], "Create an API"),
            rs::create,
        ),
        route(
            ep!(Get "/resource-servers/{id}", &["read:resource_servers"], 200, body = None, reply = One(s::<ResourceServer>), query = &[], "Get an API (by id or identifier)"),
            rs::get_one,
        ),
        route(
            ep!(Patch "/resource-servers/{id}", &["update:resource_servers"], 200, body = Some(s::<rs::UpdateResourceServer>), reply = One(s::<ResourceServer>), query = &[], "Update an API"),
            rs::update,
        ),
        route(
            ep!(Delete "/resource-servers/{id}", &["delete:resource_servers"], 204, body = None, reply = Empty, query = &[], "Delete an API"),
            rs::delete,
        ),
        // Clients
        route(
            ep!(Get "/clients", &["read:clients"], 200, body = None, reply = Paged(s::<Client>, "clients"), query = &["app_type", "is_first_party", "fields", "include_fields", "page", "per_page", "include_totals"], "List applications"),
            clients::list,
        ),
        route(
            ep!(Post "/clients", &["create:clients"], 201, body = Some(s::<clients::CreateClient>), reply = One(s::<ClientWithSecret>), query = &[], "Create an application"),
            clients::create,
        ),
        route(
            ep!(Get "/clients/{id}", &["read:clients"], 200, body = None, reply = One(s::<Client>), query = &["fields", "include_fields"], "Get an application"),
            clients::get_one,
        ),
        route(
            ep!(Patch "/clients/{id}", &["update:clients"], 200, body = Some(s::<clients::UpdateClient>), reply = One(s::<ClientWithSecret>), query = &[], "Update an application"),
            clients::update,
        ),
        route(
            ep!(Delete "/clients/{id}", &["delete:clients"], 204, body = None, reply = Empty, query = &[], "Delete an application"),
            clients::delete,
        ),
        route(
            ep!(Post "/clients/{id}/rotate-secret", &["update:client_keys"], 200, body = None, reply = One(s::<ClientWithSecret>), query = &[], "Rotate an application's secret"),
            clients::rotate_secret,
        ),
        // Client grants
        route(
            ep!(Get "/client-grants", &["read:client_grants"], 200, body = None, reply = Checkpointed(s::<ClientGrantView>, "client_grants"), query = &["audience", "client_id", "page", "per_page", "include_totals", "from", "take"], "List client grants"),
            cg::list,
        ),
        route(
            ep!(Post "/client-grants", &["create:client_grants"], 201, body = Some(s::<cg::CreateGrant>), reply = One(s::<ClientGrantView>), query = &[], "Create a client grant"),
            cg::create,
        ),
        route(
            ep!(Get "/client-grants/{id}", &["read:client_grants"], 200, body = None, reply = One(s::<ClientGrantView>), query = &[], "Get a client grant"),
            cg::get_one,
        ),
        route(
            ep!(Patch "/client-grants/{id}", &["update:client_grants"], 200, body = Some(s::<cg::UpdateGrant>), reply = One(s::<ClientGrantView>), query = &[], "Update a client grant"),
            cg::update,
        ),
        route(
            ep!(Delete "/client-grants/{id}", &["delete:client_grants"], 204, body = None, reply = Empty, query = &[], "Delete a client grant"),
            cg::delete,
        ),
        // Connections
        route(
            ep!(Get "/connections", &["read:connections"], 200, body = None, reply = Paged(s::<connections::Connection>, "connections"), query = &["name", "strategy", "page", "per_page", "include_totals"], "List connections"),
            connections::list,
        ),
        route(
            ep!(Get "/connections/{id}", &["read:connections"], 200, body = None, reply = One(s::<connections::Connection>), query = &[], "Get a connection"),
            connections::get_one,
        ),
        route(
            ep!(Patch "/connections/{id}", &["update:connections"], 200, body = Some(s::<connections::UpdateConnection>), reply = One(s::<connections::Connection>), query = &[], "Update a connection"),
            connections::update,
        ),
        // Signing keys
        route(
            ep!(Get "/keys/signing", &["read:signing_keys"], 200, body = None, reply = Array(s::<keys::SigningKeyView>), query = &[], "List signing keys"),
            keys::list,
        ),
        route(
            ep!(Get "/keys/signing/{kid}", &["read:signing_keys"], 200, body = None, reply = One(s::<keys::SigningKeyView>), query = &[], "Get a signing key"),
            keys::get_one,
        ),
        route(
            ep!(Post "/keys/signing/rotate", &["create:signing_keys", "update:signing_keys"], 201, body = None, reply = One(s::<keys::KeyCertificate>), query = &[], "Rotate the signing keys"),
            keys::rotate,
        ),
        route(
            ep!(Put "/keys/signing/{kid}/revoke", &["update:signing_keys"], 200, body = None, reply = One(s::<keys::KeyCertificate>), query = &[], "Revoke a previous signing key"),
            keys::revoke,
        ),
        // Logs
        route(
            ep!(Get "/logs", &["read:logs"], 200, body = None, reply = Paged(s::<logs::LogEventView>, "logs"),
            query = &["q", "sort", "page", "per_page", "include_totals", "from", "take"],
            "Search log events (newest first), or read them from a checkpoint"),
            logs::list,
        ),
        route(
            ep!(Get "/logs/{id}", &["read:logs"], 200, body = None, reply = One(s::<logs::LogEventView>), query = &[], "Get a log event"),
            logs::get_one,
        ),
        // Actions
        route(
            ep!(Get "/actions/actions", &["read:actions"], 200, body = None, reply = One(s::<actions::ActionList>), query = &["triggerId", "actionName", "deployed", "installed", "page", "per_page"], "List Actions"),
            actions::list,
        ),
        route(
            ep!(Post "/actions/actions", &["create:actions"], 201, body = Some(s::<actions::CreateAction>), reply = One(s::<actions::ActionView>), query = &[], "Create an Action"),
            actions::create,
        ),
        route(
            ep!(Get "/actions/actions/{id}", &["read:actions"], 200, body = None, reply = One(s::<actions::ActionView>), query = &[], "Get an Action"),
            actions::get_one,
        ),
        route(
            ep!(Patch "/actions/actions/{id}", &["update:actions"], 200, body = Some(s::<actions::UpdateAction>), reply = One(s::<actions::ActionView>), query = &[], "Update an Action (secrets given replace the list; one without a value keeps it)"),
            actions::update,
        ),
        route(
            ep!(Delete "/actions/actions/{id}", &["delete:actions"], 204, body = None, reply = Empty, query = &["force"], "Delete an Action (a bound one only with force=true)"),
            actions::delete,
        ),
        route(
            ep!(Post "/actions/actions/{id}/deploy", &["create:actions"], 200, body = None, reply = One(s::<actions::VersionView>), query = &[], "Compile and deploy an Action's current code and secrets"),
            actions::deploy,
        ),
        route(
            ep!(Post "/actions/actions/{id}/test", &["create:actions"], 200, body = Some(s::<actions::TestAction>), reply = One(s::<actions::TestResult>), query = &[], "Run an Action's current code once on a sample event"),
            actions::test,
        ),
        route(
            ep!(Get "/actions/triggers", &["read:actions"], 200, body = None, reply = One(s::<actions::TriggerList>), query = &[], "List the triggers"),
            actions::triggers,
        ),
        route(
            ep!(Get "/actions/triggers/{triggerId}/bindings", &["read:actions"], 200, body = None, reply = One(s::<actions::BindingList>), query = &["page", "per_page"], "List a trigger's flow, in order"),
            actions::bindings,
        ),
        route(
            ep!(Patch "/actions/triggers/{triggerId}/bindings", &["update:actions"], 200, body = Some(s::<actions::UpdateBindings>), reply = One(s::<actions::UpdatedBindings>), query = &[], "Replace a trigger's flow"),
            actions::update_bindings,
        ),
        route(
            ep!(Get "/actions/executions/{id}", &["read:actions"], 200, body = None, reply = One(s::<actions::ExecutionView>), query = &[], "Get an execution of a flow"),
            actions::execution,
        ),
        // Gatehouse extensions
        route(
            ep!(Post "/x-gatehouse/explain", &["read:logs"], 200, body = Some(s::<explain::ExplainBody>), reply = One(s::<gatehouse_core::explain::Explanation>), query = &[], "Explain a token, jti or log id: the checks, the decision and the fixes"),
            explain::explain_input,
        ),
        route(
            ep!(Post "/x-gatehouse/simulate", &["read:logs", "simulate:tokens"], 200, body = Some(s::<crate::simulate::SimulateRequest>), reply = One(s::<crate::simulate::Simulation>), query = &[], "Simulate a token request: the would-be token claims and the decision trace, issuing nothing"),
            simulate::simulate,
        ),
        // Email templates and the email provider
        route(
            ep!(Get "/email-templates/{templateName}", &["read:email_templates"], 200, body = None, reply = One(s::<email_templates::TemplateView>), query = &[], "Get an email template (Gatehouse's default until one is written)"),
            email_templates::get_one,
        ),
        route(
            ep!(Patch "/email-templates/{templateName}", &["update:email_templates"], 200, body = Some(s::<email_templates::TemplateBody>), reply = One(s::<email_templates::TemplateView>), query = &[], "Update an email template's given fields"),
            email_templates::update,
        ),
        route(
            ep!(Put "/email-templates/{templateName}", &["update:email_templates"], 200, body = Some(s::<email_templates::TemplateBody>), reply = One(s::<email_templates::TemplateView>), query = &[], "Replace an email template (fields left out take the default's values)"),
            email_templates::replace,
        ),
        route(
            ep!(Post "/email-templates", &["create:email_templates"], 200, body = Some(s::<email_templates::TemplateBody>), reply = One(s::<email_templates::TemplateView>), query = &[], "Create an email template"),
            email_templates::create,
        ),
        route(
            ep!(Get "/emails/provider", &["read:email_provider"], 200, body = None, reply = One(s::<emails_provider::ProviderView>), query = &["fields", "include_fields"], "Get the email provider (the SMTP password is never shown)"),
            emails_provider::get_one,
        ),
        route(
            ep!(Post "/emails/provider", &["create:email_provider"], 201, body = Some(s::<emails_provider::CreateProvider>), reply = One(s::<emails_provider::ProviderView>), query = &[], "Configure the email provider (SMTP only)"),
            emails_provider::create,
        ),
        route(
            ep!(Patch "/emails/provider", &["update:email_provider"], 200, body = Some(s::<emails_provider::UpdateProvider>), reply = One(s::<emails_provider::ProviderView>), query = &[], "Update the email provider"),
            emails_provider::update,
        ),
        route(
            ep!(Delete "/emails/provider", &["delete:email_provider"], 204, body = None, reply = Empty, query = &[], "Remove the email provider (mail goes back to the server's own configuration)"),
            emails_provider::delete,
        ),
        // Tenant settings
        route(
            ep!(Get "/tenants/settings", &["read:tenant_settings"], 200, body = None, reply = One(s::<TenantSettings>), query = &["fields", "include_fields"], "Get tenant settings"),
            tenants::get_settings,
        ),
        route(
            ep!(Patch "/tenants/settings", &["update:tenant_settings"], 200, body = Some(s::<tenants::UpdateSettings>), reply = One(s::<TenantSettings>), query = &[], "Update tenant settings"),
            tenants::update_settings,
        ),
    ]
}

/// The `/api/v2` router: every route of [`routes()`] behind its scope guard,
/// plus the unauthenticated OpenAPI description.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for Route { endpoint, handler } in routes() {
        let guard = auth::Guard {
            state: state.clone(),
            scopes: endpoint.scopes,
            self_service: endpoint.self_service,
        };
        router = router.route(
            endpoint.path,
            handler.route_layer(axum::middleware::from_fn_with_state(
                guard,
                auth::require_scopes,
            )),
        );
    }
    router
        .route(openapi::PATH, get(openapi::serve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// 501 for an Auth0 path Gatehouse does not serve (to an authenticated
/// caller), else 404.
async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    method: axum::http::Method,
    axum::extract::OriginalUri(original): axum::extract::OriginalUri,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> ManagementError {
    if !not_implemented::is_auth0_only(uri.path()) {
        return ManagementError::new(StatusCode::NOT_FOUND, "Not Found", "not_found");
    }
    if let Err(e) = auth::authenticate(&state, &headers).await {
        return e;
    }
    ManagementError::new(
        StatusCode::NOT_IMPLEMENTED,
        format!(
            "Gatehouse does not implement {method} {} yet.",
            original.path()
        ),
        "not_implemented",
    )
}

/// 405, except for an Auth0 path that only shares its shape with a served
/// one (`POST /jobs/users-imports` against `GET /jobs/{id}`): that is 501.
async fn method_not_allowed(
    state: axum::extract::State<AppState>,
    method: axum::http::Method,
    original: axum::extract::OriginalUri,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> ManagementError {
    if not_implemented::is_auth0_only(uri.path()) {
        return not_found(state, method, original, uri, headers).await;
    }
    ManagementError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method Not Allowed",
        "method_not_allowed",
    )
}
