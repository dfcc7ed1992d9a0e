//! Gatehouse storage: one interface, two databases.
//!
//! - [`Store`]: everything Gatehouse persists, as one async trait. Business
//!   logic sees only this trait, never a backend.
//! - [`sql::SqlStore`]: the implementation over sqlx's `Any` driver. The SQL is
//!   portable (`$N` placeholders, TEXT and 64-bit integers, conditional updates
//!   instead of row locks) so SQLite and PostgreSQL share it; each backend has
//!   its own forward-only migrations in `migrations/<backend>/`.
//! - [`transfer`]: export and import of a whole tenant between databases.
//! - [`records`]: records that are not Management API objects (keys, codes,
//!   refresh-token families, device codes, SSO sessions, log events).
//! - [`error`]: the one error type, [`StoreError`].
//! - `testing` (behind the `testing` feature, for test builds only): throwaway
//!   PostgreSQL databases for the workspace's tests.
//!
//! The conformance suite in `tests/` runs against SQLite always and against
//! PostgreSQL when `GATEHOUSE_TEST_DATABASE_URL` is set.

pub mod error;
pub mod records;
pub mod sql;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transfer;

use async_trait::async_trait;
use gatehouse_core::model::{
    Client, ClientGrant, EffectivePermission, Permission, ResourceServer, Role, TenantSettings,
    User,
};
pub use gatehouse_core::user_query::{Field, SortKey, Term, UserSort};

pub use error::{StoreError, StoreResult};
pub use records::*;

/// A client as stored: the object plus the hash of its secret.
#[derive(Debug, Clone)]
pub struct StoredClient {
    pub client: Client,
    /// SHA-256 of the secret, hex; secrets themselves are never stored.
    pub secret_hash: Option<String>,
}

/// A user as stored, with the password hash (argon2id PHC string).
#[derive(Debug, Clone)]
pub struct StoredUser {
    pub user: User,
    pub password_hash: Option<String>,
}

/// A user search (`GET /api/v2/users`): every term must match.
#[derive(Debug, Clone)]
pub struct UserSearch {
    pub terms: Vec<Term>,
    /// Only users of this connection (exact name).
    pub connection: Option<String>,
    /// Without it: oldest first. Ties are broken by `user_id`.
    pub sort: Option<UserSort>,
    pub page: Page,
    /// Also count every match (`include_totals`).
    pub include_total: bool,
}

/// One page of a [`UserSearch`].
#[derive(Debug, Clone)]
pub struct UserSearchPage {
    pub users: Vec<StoredUser>,
    /// How many users match in all, when asked for.
    pub total: Option<i64>,
}

/// Logins and signups of one UTC day (`GET /api/v2/stats/daily`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyCounts {
    /// Days since the epoch.
    pub day: i64,
    /// Successful logins (`s` log events).
    pub logins: i64,
    /// Successful signups (`ss` log events).
    pub signups: i64,
    /// When the day's first counted event happened (epoch seconds).
    pub first_event_at: i64,
    /// When the day's last counted event happened (epoch seconds).
    pub last_event_at: i64,
}

/// Everything Gatehouse persists: the narrow interfaces together.
pub trait Store:
    ConfigStore
    + DirectoryStore
    + TokenStore
    + SessionStore
    + MaintenanceStore
    + ActionStore
    + MailStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: ConfigStore
        + DirectoryStore
        + TokenStore
        + SessionStore
        + MaintenanceStore
        + ActionStore
        + MailStore
        + Send
        + Sync
        + 'static
{
}

/// How many rows one purge pass deleted, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub authorization_codes: u64,
    pub opaque_tokens: u64,
    pub device_codes: u64,
    pub used_jtis: u64,
    pub refresh_families: u64,
    pub log_events: u64,
    pub login_failures: u64,
    pub sso_sessions: u64,
    pub dashboard_sessions: u64,
    pub rate_limits: u64,
    pub action_executions: u64,
    /// Sent or given-up mails older than the log retention.
    pub mail_queue: u64,
    /// Tickets that expired.
    pub user_tickets: u64,
}

impl PurgeReport {
    /// Each table with its count: one list for the total, the log line and
    /// the "was a batch full?" check, so no table is left out of one of them.
    pub fn per_table(&self) -> [(&'static str, u64); 13] {
        [
            ("authorization_codes", self.authorization_codes),
            ("opaque_tokens", self.opaque_tokens),
            ("device_codes", self.device_codes),
            ("used_jtis", self.used_jtis),
            ("refresh_families", self.refresh_families),
            ("log_events", self.log_events),
            ("login_failures", self.login_failures),
            ("sso_sessions", self.sso_sessions),
            ("dashboard_sessions", self.dashboard_sessions),
            ("rate_limits", self.rate_limits),
            ("action_executions", self.action_executions),
            ("mail_queue", self.mail_queue),
            ("user_tickets", self.user_tickets),
        ]
    }

    pub fn total(&self) -> u64 {
        self.per_table().iter().map(|(_, n)| n).sum()
    }
}

/// One fixed rate-limit window: hits counted so far and when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    pub hits: i64,
    pub resets_at: i64,
}

/// Background upkeep and attack-protection counters shared by all nodes.
#[async_trait]
pub trait MaintenanceStore: Send + Sync {
    /// Takes or renews the lease `name` for `holder` until `now + ttl`; false
    /// while another holder's lease is still valid.
    async fn try_lease(&self, name: &str, holder: &str, now: i64, ttl: i64) -> StoreResult<bool>;
    /// Reserves one password check for the (IP, identifier) pair, atomically
    /// and before the password is verified: `None` when the pair is blocked or
    /// `limit` attempts are already used or in flight, so concurrent guesses
    /// cannot overshoot the limit; else the attempt's number (1..=limit). The
    /// reservation that uses up the last attempt blocks the pair until
    /// `block_until` in the same statement, so an attempt that never reports
    /// its outcome still ends in a visible, expiring block (a success clears
    /// it). A block that ended is forgotten first.
    async fn reserve_login_attempt(
        &self,
        ip: &str,
        identifier: &str,
        now: i64,
        limit: i64,
        block_until: i64,
    ) -> StoreResult<Option<i64>>;
    /// A successful login resets the count.
    async fn clear_login_failures(&self, ip: &str, identifier: &str) -> StoreResult<()>;
    /// The IPs currently blocked for `identifier` (Management API user-blocks).
    async fn login_blocks(&self, identifier: &str, now: i64) -> StoreResult<Vec<String>>;
    /// Removes every block and count of `identifier` (an admin's unblock or a
    /// password change); returns how many pairs were cleared.
    async fn clear_login_blocks(&self, identifier: &str) -> StoreResult<u64>;
    /// The hits on rate-limit `key` in the fixed window of `window` seconds
    /// containing `now`, and when that window ends.
    async fn rate_limit_hits(&self, key: &str, now: i64, window: i64) -> StoreResult<RateWindow>;
    /// Counts one hit on rate-limit `key` atomically (a new window starts when
    /// the previous one ended) and returns the window with this hit.
    async fn hit_rate_limit(&self, key: &str, now: i64, window: i64) -> StoreResult<RateWindow>;
    /// Counts one hit on rate-limit `key` only while the window holds fewer
    /// than `limit` hits, in one atomic statement: `Some` (the window with
    /// this hit) when counted, `None` when the window is full.
    async fn reserve_rate_limit(
        &self,
        key: &str,
        now: i64,
        window: i64,
        limit: i64,
    ) -> StoreResult<Option<RateWindow>>;
    /// Gives back a hit counted by [`Self::reserve_rate_limit`] in the window
    /// containing `now` (never below zero; nothing once the window ended).
    async fn release_rate_limit(&self, key: &str, now: i64, window: i64) -> StoreResult<()>;
    /// Deletes at most `batch` expired rows per table (codes, opaque tokens,
    /// device codes, jtis, dead refresh families, log events older than the
    /// retention). Call again while anything was deleted.
    async fn purge_expired(
        &self,
        now: i64,
        log_retention_seconds: i64,
        batch: i64,
    ) -> StoreResult<PurgeReport>;
}

/// The names of [`ConfigStore::server_value`]s.
pub mod server_values {
    /// JSON options of the database connection (`disable_signup`).
    pub const DATABASE_CONNECTION_OPTIONS: &str = "connection_options";
    /// The key the pages' CSRF tokens are signed with (hex).
    pub const CSRF_KEY: &str = "csrf_key";
    /// Present once the signing keys are all sealed: from then on a plain
    /// (unsealed) key row is refused at start, never adopted.
    pub const SIGNING_KEYS_SEALED: &str = "signing_keys_sealed";
    /// The client id of the dashboard, Gatehouse's own first-party client.
    pub const DASHBOARD_CLIENT_ID: &str = "dashboard_client_id";
}

/// Tenant configuration: settings, keys, clients, APIs, client grants.
#[async_trait]
pub trait ConfigStore: Send + Sync {
    /// Round-trips to the database (readiness).
    async fn ping(&self) -> StoreResult<()>;
    /// `sqlite` or `postgres`.
    fn backend_name(&self) -> &'static str;

    // Tenant
    async fn tenant_settings(&self) -> StoreResult<TenantSettings>;
    async fn put_tenant_settings(&self, settings: &TenantSettings) -> StoreResult<()>;
    /// A named server-wide value ([`server_values`] lists the names).
    async fn server_value(&self, name: &str) -> StoreResult<Option<String>>;
    async fn put_server_value(&self, name: &str, body: &str) -> StoreResult<()>;
    /// Stores `body` under `name` unless a value is there already, and returns
    /// the stored value: when several nodes race, all get the first one's.
    async fn server_value_or_insert(&self, name: &str, body: &str) -> StoreResult<String>;

    // Signing keys
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>>;
    async fn insert_signing_key(&self, key: &StoredKey) -> StoreResult<()>;
    async fn set_signing_key_state(&self, kid: &str, state: &str, now: i64) -> StoreResult<()>;
    /// Replaces the stored private key of each `(kid, private_key)` in one
    /// transaction (sealing, re-sealing under a new master key); a kid that
    /// does not exist is [`StoreError::NotFound`] and changes nothing.
    async fn replace_signing_key_private_keys(&self, keys: &[(String, String)]) -> StoreResult<()>;

    // Clients
    async fn create_client(&self, client: &StoredClient, now: i64) -> StoreResult<()>;
    async fn client(&self, client_id: &str) -> StoreResult<Option<StoredClient>>;
    async fn update_client(&self, client: &StoredClient) -> StoreResult<()>;
    async fn delete_client(&self, client_id: &str) -> StoreResult<()>;
    async fn clients(&self, page: Page) -> StoreResult<Vec<StoredClient>>;

    // Resource servers
    async fn create_resource_server(&self, api: &ResourceServer, now: i64) -> StoreResult<()>;
    async fn resource_server(&self, id: &str) -> StoreResult<Option<ResourceServer>>;
    async fn resource_server_by_identifier(
        &self,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>>;
    async fn update_resource_server(&self, api: &ResourceServer) -> StoreResult<()>;
    async fn delete_resource_server(&self, id: &str) -> StoreResult<()>;
    async fn resource_servers(&self, page: Page) -> StoreResult<Vec<ResourceServer>>;

    // Client grants
    async fn create_client_grant(&self, grant: &ClientGrant, now: i64) -> StoreResult<()>;
    async fn client_grant(&self, id: &str) -> StoreResult<Option<ClientGrant>>;
    async fn update_client_grant(&self, grant: &ClientGrant) -> StoreResult<()>;
    async fn delete_client_grant(&self, id: &str) -> StoreResult<()>;
    async fn client_grants(&self, page: Page) -> StoreResult<Vec<ClientGrant>>;
    /// Grants that may apply to `client_id` on `audience`: its own and the
    /// `default_for` ones.
    async fn client_grants_for(
        &self,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Vec<ClientGrant>>;
}

/// Users, roles, permissions and consents.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    // Users
    async fn create_user(&self, user: &StoredUser) -> StoreResult<()>;
    /// Creates many users in one transaction with multi-row inserts (imports,
    /// seeding); a taken `user_id` or email is [`StoreError::Conflict`] and
    /// creates none.
    async fn create_users(&self, users: &[StoredUser]) -> StoreResult<()>;
    async fn user(&self, user_id: &str) -> StoreResult<Option<StoredUser>>;
    async fn user_by_email(&self, connection: &str, email: &str)
        -> StoreResult<Option<StoredUser>>;
    async fn update_user(&self, user: &StoredUser) -> StoreResult<()>;
    async fn delete_user(&self, user_id: &str) -> StoreResult<()>;
    async fn users(&self, page: Page) -> StoreResult<Vec<StoredUser>>;
    async fn record_login(&self, user_id: &str, now: i64) -> StoreResult<()>;
    /// The users matching `search`, in its order, and their count if asked.
    async fn search_users(&self, search: &UserSearch) -> StoreResult<UserSearchPage>;
    /// The users of every connection with this email (case-insensitive),
    /// oldest first.
    async fn users_with_email(&self, email: &str) -> StoreResult<Vec<StoredUser>>;
    /// How many users logged in at or after `since`.
    async fn count_users_active_since(&self, since: i64) -> StoreResult<i64>;
    /// Logins and signups per UTC day for the days `first_day..=last_day`
    /// (days since the epoch), counted from the log events; days with
    /// neither are left out.
    async fn daily_counts(&self, first_day: i64, last_day: i64) -> StoreResult<Vec<DailyCounts>>;

    // Roles and permissions
    async fn create_role(&self, role: &Role, now: i64) -> StoreResult<()>;
    async fn role(&self, id: &str) -> StoreResult<Option<Role>>;
    async fn update_role(&self, role: &Role) -> StoreResult<()>;
    async fn delete_role(&self, id: &str) -> StoreResult<()>;
    async fn roles(&self, page: Page) -> StoreResult<Vec<Role>>;
    async fn add_role_permissions(&self, role_id: &str, perms: &[Permission]) -> StoreResult<()>;
    async fn remove_role_permissions(&self, role_id: &str, perms: &[Permission])
        -> StoreResult<()>;
    async fn role_permissions(&self, role_id: &str) -> StoreResult<Vec<Permission>>;
    async fn assign_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()>;
    async fn remove_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()>;
    async fn user_roles(&self, user_id: &str) -> StoreResult<Vec<Role>>;
    /// The users holding a role, oldest first (`GET /api/v2/roles/{id}/users`).
    async fn role_users(&self, role_id: &str, page: Page) -> StoreResult<Vec<StoredUser>>;
    /// How many users hold a role.
    async fn count_role_users(&self, role_id: &str) -> StoreResult<i64>;
    /// Gives a role to many users in one transaction (`POST
    /// /api/v2/roles/{id}/users`); those who hold it already keep it.
    async fn add_role_users(&self, role_id: &str, user_ids: &[String]) -> StoreResult<()>;
    async fn add_user_permissions(&self, user_id: &str, perms: &[Permission]) -> StoreResult<()>;
    async fn remove_user_permissions(&self, user_id: &str, perms: &[Permission])
        -> StoreResult<()>;
    /// Direct permissions only.
    async fn user_direct_permissions(&self, user_id: &str) -> StoreResult<Vec<Permission>>;
    /// Direct ∪ via roles on one API, each with where it came from.
    async fn effective_permissions(
        &self,
        user_id: &str,
        audience: &str,
    ) -> StoreResult<Vec<EffectivePermission>>;
    /// For each of `scopes`, the names of roles that grant it on `audience`.
    async fn roles_granting(
        &self,
        audience: &str,
        scopes: &[String],
    ) -> StoreResult<Vec<(String, Vec<String>)>>;

    // Consents
    async fn consent(
        &self,
        user_id: &str,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Option<String>>;
    async fn put_consent(
        &self,
        user_id: &str,
        client_id: &str,
        audience: &str,
        scope: &str,
        now: i64,
    ) -> StoreResult<()>;
}

/// Short- and long-lived grants: codes, refresh tokens, device codes, logs.
#[async_trait]
pub trait TokenStore: Send + Sync {
    // Authorization codes
    async fn insert_authorization_code(
        &self,
        code_hash: &str,
        code: &AuthorizationCode,
    ) -> StoreResult<()>;
    /// Marks the code used, atomically: of two concurrent redemptions exactly
    /// one gets [`CodeRedemption::Redeemed`].
    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        now: i64,
    ) -> StoreResult<CodeRedemption>;

    // Refresh tokens
    /// Creates a family with its first token, then revokes the oldest active
    /// families of the same user and client beyond `max_active`. With
    /// `from_code` (the hash of the code whose redemption starts the family)
    /// the code remembers the family in the same transaction, so a reuse of
    /// the code always finds what it issued to revoke.
    async fn create_refresh_family(
        &self,
        family: &RefreshFamily,
        first_token_hash: &str,
        max_active: i64,
        from_code: Option<&str>,
    ) -> StoreResult<()>;
    async fn refresh_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(RefreshTokenRecord, RefreshFamily)>>;
    /// Replaces `old_hash` by `new_hash` if `old_hash` is still active (or, with
    /// `leeway_since` set, if it was rotated at or after that time and its
    /// successor is still the active token). Returns false when another
    /// request won the race or the token was reused.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        leeway_since: Option<i64>,
    ) -> StoreResult<bool>;
    async fn revoke_refresh_family(&self, family_id: &str, now: i64) -> StoreResult<()>;
    /// Revokes every active family of a user for a client; returns how many.
    async fn revoke_refresh_families_for(
        &self,
        user_id: &str,
        client_id: &str,
        now: i64,
    ) -> StoreResult<u64>;

    // Opaque access tokens
    async fn insert_opaque_token(&self, token: &OpaqueToken) -> StoreResult<()>;
    async fn opaque_token(&self, token_hash: &str) -> StoreResult<Option<OpaqueToken>>;

    // Device codes
    async fn insert_device_code(&self, code: &DeviceCode) -> StoreResult<()>;
    async fn device_code(&self, device_code_hash: &str) -> StoreResult<Option<DeviceCode>>;
    async fn device_code_by_user_code(&self, user_code: &str) -> StoreResult<Option<DeviceCode>>;
    /// Moves a device code from `from` to `to` (with the deciding user);
    /// false when it was not in `from` any more.
    async fn transition_device_code(
        &self,
        device_code_hash: &str,
        from: DeviceStatus,
        to: DeviceStatus,
        user_id: Option<&str>,
    ) -> StoreResult<bool>;
    /// Records a poll; returns the previous poll time.
    async fn touch_device_code(&self, device_code_hash: &str, now: i64)
        -> StoreResult<Option<i64>>;

    // Client assertions
    /// Records a `jti`; false when it was seen before (replay).
    async fn use_jti(&self, client_id: &str, jti: &str, expires_at: i64) -> StoreResult<bool>;

    // Logs
    /// Accepts an event for writing: it is written within a batch shortly
    /// after (see [`Self::flush_log_events`]); every read of log events of
    /// this store sees it.
    async fn insert_log_event(&self, event: &LogEvent) -> StoreResult<()>;
    /// Waits until every event accepted so far by this store is written (or
    /// its loss, on a database error, logged). Called before a process exits.
    async fn flush_log_events(&self) -> StoreResult<()>;
    /// Writes many events in one transaction with multi-row inserts
    /// (imports, seeding); a taken `log_id` is [`StoreError::Conflict`] and
    /// writes none.
    async fn import_log_events(&self, events: &[LogEvent]) -> StoreResult<()>;
    /// The events matching `query.filter`, ordered and windowed as it says.
    async fn search_log_events(&self, query: &LogQuery) -> StoreResult<Vec<LogEvent>>;
    /// How many events match `filter` (`include_totals` of `GET /api/v2/logs`).
    async fn count_log_events(&self, filter: &LogFilter) -> StoreResult<i64>;
    async fn log_event(&self, log_id: &str) -> StoreResult<Option<LogEvent>>;
    /// The first event that recorded this access-token `jti`: its issuance.
    async fn log_event_by_jti(&self, jti: &str) -> StoreResult<Option<LogEvent>>;
}

/// Which browser session a [`SessionStore`] call is about. Both kinds have
/// the same shape ([`SsoSession`]) and live in separate tables, so a cookie
/// of one kind can never be accepted as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// The end user's login at Gatehouse (`/authorize`, `/login`).
    Sso,
    /// An administrator's sign-in to the dashboard at `/admin`.
    Dashboard,
}

/// Actions, the ordered flow of each trigger, and the record of its runs.
#[async_trait]
pub trait ActionStore: Send + Sync {
    /// A taken name is [`StoreError::Conflict`].
    async fn create_action(&self, action: &StoredAction) -> StoreResult<()>;
    async fn action(&self, id: &str) -> StoreResult<Option<StoredAction>>;
    /// Replaces the stored Action with this id (name still unique).
    async fn update_action(&self, action: &StoredAction) -> StoreResult<()>;
    /// Deletes the Action and its bindings.
    async fn delete_action(&self, id: &str) -> StoreResult<()>;
    /// Oldest first (`created_at`, then `id`).
    async fn actions(&self, page: Page) -> StoreResult<Vec<StoredAction>>;
    /// The bindings of a trigger in flow order.
    async fn trigger_bindings(&self, trigger_id: &str) -> StoreResult<Vec<ActionBinding>>;
    /// Replaces the whole flow of a trigger in one transaction, in the order
    /// given; a binding naming an Action that does not exist is
    /// [`StoreError::NotFound`] and changes nothing.
    async fn replace_trigger_bindings(
        &self,
        trigger_id: &str,
        bindings: &[ActionBinding],
    ) -> StoreResult<()>;
    /// The hot path: the bound Actions of a trigger, in order, with their records, in ONE query.
    async fn action_flow(
        &self,
        trigger_id: &str,
    ) -> StoreResult<Vec<(ActionBinding, StoredAction)>>;
    async fn insert_action_execution(&self, execution: &ActionExecution) -> StoreResult<()>;
    async fn action_execution(&self, id: &str) -> StoreResult<Option<ActionExecution>>;
}

/// Outgoing mail and the single-use links it carries.
///
/// The queue is shared by all nodes: [`MailStore::claim_mail`] leases due
/// mails to one node at a time, so each is sent once while that node lives;
/// a node that dies mid-send leaves its lease to expire and another node
/// retries (so a crash between the SMTP server's acceptance and
/// [`MailStore::mark_mail_sent`] can send a mail twice, never zero times).
#[async_trait]
pub trait MailStore: Send + Sync {
    /// Queues a mail. A `job_id` already taken is [`StoreError::Conflict`].
    async fn enqueue_mail(&self, mail: &QueuedMail) -> StoreResult<()>;
    /// Leases up to `limit` due mails (not sent, not given up,
    /// `next_attempt_at <= now`, no live lease) to `holder` until
    /// `lease_until`, oldest due first, and returns them. Two concurrent
    /// claims never return the same mail.
    async fn claim_mail(
        &self,
        holder: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>>;
    /// Records the mail sent and ends the lease; false when `holder` no
    /// longer holds it (its lease ran out and another node took it).
    async fn mark_mail_sent(&self, id: &str, holder: &str, now: i64) -> StoreResult<bool>;
    /// Records a failed attempt: counts it, keeps `error`, ends the lease and
    /// makes the mail due again at `next_attempt_at`.
    async fn retry_mail(
        &self,
        id: &str,
        holder: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> StoreResult<()>;
    /// Gives up on the mail for good (it stays, with `failed_at`, for its job).
    async fn fail_mail(&self, id: &str, holder: &str, now: i64, error: &str) -> StoreResult<()>;
    async fn queued_mail(&self, id: &str) -> StoreResult<Option<QueuedMail>>;
    async fn mail_by_job(&self, job_id: &str) -> StoreResult<Option<QueuedMail>>;
    /// Mails not yet sent nor given up (the queue's depth, for health and tests).
    async fn pending_mail_count(&self) -> StoreResult<i64>;

    /// Stores a new ticket. Its user's earlier unused tickets of the same
    /// kind are superseded at `ticket.created_at` in the same transaction,
    /// so only the newest link works.
    async fn insert_ticket(&self, ticket: &UserTicket) -> StoreResult<()>;
    /// Supersedes every unused ticket of the user, of both kinds, at `now`
    /// (their links were mailed to an address the user no longer has);
    /// returns how many.
    async fn supersede_tickets(&self, user_id: &str, now: i64) -> StoreResult<u64>;
    /// Reads a ticket without using it (to show its page).
    async fn ticket(&self, id_hash: &str) -> StoreResult<Option<UserTicket>>;
    /// Uses the ticket, atomically: of two concurrent redemptions exactly one
    /// gets [`TicketRedemption::Redeemed`]; an expired, used or superseded
    /// ticket says which.
    async fn redeem_ticket(&self, id_hash: &str, now: i64) -> StoreResult<TicketRedemption>;
}

/// Browser sessions, keyed by the hash of the cookie's random id.
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, kind: SessionKind, session: &SsoSession) -> StoreResult<()>;
    /// The session if it exists, has not ended, and neither its absolute nor
    /// its idle lifetime has run out at `now`.
    async fn active_session(
        &self,
        kind: SessionKind,
        id_hash: &str,
        now: i64,
    ) -> StoreResult<Option<SsoSession>>;
    /// Records activity: moves `last_seen_at` to `now` and the idle expiry to
    /// `idle_expires_at` (never past the absolute expiry). False when the
    /// session is no longer active.
    async fn touch_session(
        &self,
        kind: SessionKind,
        id_hash: &str,
        now: i64,
        idle_expires_at: i64,
    ) -> StoreResult<bool>;
    /// Ends a session (logout); false when it was not active.
    async fn end_session(&self, kind: SessionKind, id_hash: &str, now: i64) -> StoreResult<bool>;
    /// Ends every active session of a user; returns how many.
    async fn end_user_sessions(
        &self,
        kind: SessionKind,
        user_id: &str,
        now: i64,
    ) -> StoreResult<u64>;
}

/// Opens the database at `url` (`sqlite:<path>` or `postgres://…`), applying
/// pending migrations.
pub async fn open(url: &str) -> StoreResult<std::sync::Arc<dyn Store>> {
    open_with(url, &sql::PoolSettings::default()).await
}

/// [`open`] with explicit connection-pool settings.
pub async fn open_with(
    url: &str,
    settings: &sql::PoolSettings,
) -> StoreResult<std::sync::Arc<dyn Store>> {
    Ok(std::sync::Arc::new(
        sql::SqlStore::connect_with(url, settings).await?,
    ))
}
