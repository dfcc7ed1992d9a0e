//! The store conformance suite: every check runs against SQLite always and
//! against PostgreSQL when `GATEHOUSE_TEST_DATABASE_URL` is set (for example
//! `postgres://postgres@127.0.0.1:5432/test`); without it each PostgreSQL test
//! prints that it skipped and passes.
//!
//! Run it with `cargo test -p gatehouse-store --test conformance`; filter one
//! backend with `sqlite::` or `postgres::`.
//!
//! - [`harness`]: a fresh database per test (a temp file, or a randomly named
//!   PostgreSQL database dropped afterwards).
//! - [`actions`]: Actions, trigger bindings (flows), executions.
//! - [`config`]: tenant settings, signing keys, clients, APIs, client grants.
//! - [`config_cache`]: the store's cache of them sees every change: its own at
//!   once, another store's on the same database within a second.
//! - [`directory`]: users, roles, permissions, consents.
//! - [`mail`]: the mail queue's leases, retries and jobs; tickets.
//! - [`maintenance`]: leases, purging expired data, export/import.
//! - [`log_batches`]: the batched log writer loses nothing and reads see it.
//! - [`tokens`]: codes, refresh-token families, opaque tokens, device codes,
//!   jtis, logs, including the concurrent "use once" races.
//! - [`sessions`]: SSO sessions.
//! - [`user_search`]: the user search, users by email, activity counts.
//! - [`scale`]: 100,000 users and log events and a role with 20,000
//!   members, checked against answers computed in the test.
//!
//! Each check is an `async fn` taking `&dyn Store` (or `&Arc<dyn Store>` when it
//! spawns tasks), written once; [`conformance!`] generates one test per backend.

mod conformance {
    pub mod actions;
    pub mod config;
    pub mod config_cache;
    pub mod directory;
    pub mod harness;
    pub mod log_batches;
    pub mod mail;
    pub mod maintenance;
    pub mod scale;
    pub mod sessions;
    pub mod tokens;
    pub mod user_search;
}

use conformance::{
    actions, config, config_cache, directory, harness, log_batches, mail, maintenance, scale,
    sessions, tokens, user_search,
};

/// For each `module::check`, a `sqlite::check` and a `postgres::check` test.
macro_rules! conformance {
    ($($module:ident :: $check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    crate::harness::on_sqlite(|store, url| async move {
                        crate::$module::$check(crate::harness::StoreArg::from_parts(&store, &url))
                            .await
                    })
                    .await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    crate::harness::on_postgres(|store, url| async move {
                        crate::$module::$check(crate::harness::StoreArg::from_parts(&store, &url))
                            .await
                    })
                    .await;
                }
            )*
        }
    };
}

conformance! {
    config::ping_and_backend_name,
    config::tenant_settings_default_then_round_trip,
    config::server_values_first_writer_wins,
    config::signing_keys_insert_list_state,
    config::clients_crud,
    config::clients_paging,
    config::resource_servers_crud,
    config::resource_server_delete_cascades_grants,
    config::client_grants_crud_and_lookup,
    config::client_delete_cascades_its_grants,
    config_cache::own_writes_are_seen_at_once,
    config_cache::another_stores_writes_are_seen_within_a_second,
    directory::users_crud,
    directory::users_email_uniqueness,
    directory::record_login_counts,
    directory::record_login_concurrent,
    directory::roles_crud,
    directory::role_and_user_permissions,
    directory::effective_permissions_merge_sources,
    directory::roles_granting_scopes,
    directory::role_users_lists_holders,
    directory::consents_put_get_overwrite,
    user_search::user_search_terms,
    user_search::user_search_escapes_like_wildcards,
    user_search::user_search_sorts_and_pages,
    user_search::user_search_follows_writes,
    user_search::users_with_email_across_connections,
    user_search::daily_counts_per_utc_day,
    tokens::authorization_code_single_use,
    tokens::authorization_code_concurrent_redemption,
    tokens::refresh_family_create_and_lookup,
    tokens::refresh_rotation_once,
    tokens::refresh_rotation_leeway,
    tokens::refresh_revocation,
    tokens::refresh_active_family_cap,
    tokens::refresh_concurrent_rotation,
    tokens::opaque_tokens_round_trip,
    tokens::device_codes_lifecycle,
    tokens::device_code_concurrent_polls,
    tokens::jti_replay,
    tokens::log_events_round_trip,
    tokens::log_events_count,
    tokens::log_search_filters,
    tokens::log_search_orders_and_pages,
    tokens::log_search_checkpoint,
    log_batches::concurrent_log_events_all_readable,
    log_batches::read_right_after_insert_sees_it,
    maintenance::lease_is_exclusive_until_expiry,
    maintenance::purge_removes_only_expired_rows,
    maintenance::purge_works_in_batches,
    maintenance::export_import_round_trip,
    maintenance::login_attempt_reservations,
    maintenance::rate_limit_windows,
    maintenance::rate_limit_reservations,
    sessions::sessions_lifetimes_and_touch,
    sessions::sessions_end_and_cascade,
    sessions::sessions_purged_after_grace,
    actions::actions_crud,
    actions::action_names_are_unique,
    actions::bindings_keep_order_and_are_replaced,
    actions::action_flow_joins_bindings_and_actions,
    actions::action_delete_cascades_bindings,
    actions::action_executions_round_trip_and_purge,
    mail::mail_queue_round_trip,
    mail::mail_claims_due_mail_oldest_first,
    mail::mail_claims_are_disjoint_under_concurrency,
    mail::mail_lease_expiry_hands_over,
    mail::mail_retry_and_give_up,
    mail::tickets_supersede_same_user_and_kind,
    mail::tickets_superseded_all_at_once,
    mail::tickets_redeem_refusals,
    mail::tickets_redeem_once_under_concurrency,
    mail::mail_and_tickets_purged,
    scale::directory_and_logs_at_scale,
}

/// Checks that open a second store on the test's database: they take its URL.
mod second_store {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_flushed_events_visible_to_a_second_store() {
        crate::harness::on_sqlite(crate::log_batches::flushed_events_visible_to_a_second_store)
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_flushed_events_visible_to_a_second_store() {
        crate::harness::on_postgres(crate::log_batches::flushed_events_visible_to_a_second_store)
            .await;
    }
}
