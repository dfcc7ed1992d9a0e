//! Property tests (a bounded fuzz that runs in `cargo test`) of the server's
//! parsers: request parameters from forms and JSON, the `/authorize`
//! request checks on a real store, and the user-search `q` and `sort`
//! parsers. None may panic; each answers with its proper error.
//!
//! `PROPTEST_CASES` overrides the 256 cases per property.

use crate::authorize::{spa_callback, WEB_CALLBACK};
use crate::fixtures::seed;
use crate::support::TestServer;
use gatehouse_core::error::ErrorCode;
use gatehouse_core::model::User;
use gatehouse_core::user_query::{parse_user_query, UserSort};
use gatehouse_server::extract::Params;
use gatehouse_server::routes::authorize::checks::{validate, Invalid};
use gatehouse_server::routes::management::error::ManagementError;
use gatehouse_store::{Page, StoredUser, UserSearch};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Bytes that look like a form: known names, `=`, `&`, escapes (valid and
/// broken), and anything else.
fn form_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        proptest::sample::select(
            &[
                "client_id=",
                "redirect_uri=",
                "response_type=",
                "grant_type=",
                "&",
                "=",
                "%",
                "%FF",
                "%00",
                "%0d%0a",
                "%C3%28",
                "+",
                "code",
                "spa-client",
                "web-client",
            ][..]
        )
        .prop_map(|s| s.as_bytes().to_vec()),
        proptest::collection::vec(any::<u8>(), 0..6),
    ];
    proptest::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
}

fn json_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        "\\{(\"[a-z_]{0,8}\": ?(\"[ -~]{0,8}\"|null|1|\\[\\]|\\{\\}|true), ?){0,4}\\}"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn form_and_json_parameters_parse_or_are_invalid_request(
        form in form_bytes(),
        json in json_bytes(),
    ) {
        for parsed in [Params::from_form(&form), Params::from_json(&json)] {
            match parsed {
                Ok(params) => {
                    // Present values are never empty and never hold a NUL.
                    for name in ["client_id", "redirect_uri", "grant_type", "code"] {
                        if let Some(v) = params.get(name) {
                            prop_assert!(!v.is_empty() && !v.contains('\0'));
                        }
                    }
                }
                Err(e) => {
                    prop_assert_eq!(e.error, ErrorCode::InvalidRequest);
                    prop_assert!(!e.error_description.is_empty());
                }
            }
        }
    }
}

/// The user search `q` and `sort`, parsed and then run on a real store:
/// either a 400 `invalid_query_string` naming the parameter, or a search the
/// store answers (never a database error).
#[test]
fn user_searches_parse_or_are_invalid_queries() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(TestServer::start());
    runtime
        .block_on(server.store.create_user(&StoredUser {
            user: User::new("auth0|1", "alice@example.com", 0),
            password_hash: None,
        }))
        .unwrap();
    let inputs = (
        prop_oneof![
            any::<String>(),
            "[a-z_.]{0,12}:[\"*a-z@. ()\\[\\]%_\\\\]{0,12}( (AND|OR|NOT) [a-z:\"*%_]{0,8}){0,3}",
        ],
        prop_oneof![any::<String>(), "[a-z_]{0,12}:-?[0-9]{0,2}"],
    );
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&inputs, |(q, sort)| {
            let sort = match UserSort::parse(&sort) {
                Ok(sort) => Some(sort),
                Err(e) => {
                    let e = ManagementError::from(e);
                    prop_assert_eq!(e.status.as_u16(), 400);
                    prop_assert!(e.message.starts_with("Query validation error: 'sort' "));
                    None
                }
            };
            match parse_user_query(&q) {
                Ok(terms) => {
                    let search = UserSearch {
                        terms,
                        connection: None,
                        sort,
                        page: Page {
                            offset: 0,
                            limit: 10,
                        },
                        include_total: true,
                    };
                    let found = runtime.block_on(server.store.search_users(&search));
                    prop_assert!(found.is_ok(), "{:?}", found.err());
                }
                Err(e) => {
                    let e = ManagementError::from(e);
                    prop_assert_eq!(e.status.as_u16(), 400);
                    prop_assert_eq!(e.error_code, Some("invalid_query_string"));
                    prop_assert!(e.message.starts_with("Query validation error: 'q' "));
                }
            }
            Ok(())
        })
        .unwrap();
    runtime.block_on(server.stop());
}

/// `/authorize` requests, on the seeded store: never a panic or an internal
/// error, and whatever answers through a redirect goes to a registered
/// callback of the named client.
#[test]
fn authorize_requests_are_checked_without_panics() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(TestServer::start());
    runtime.block_on(seed(server.store.as_ref()));
    let callbacks = [spa_callback(), WEB_CALLBACK.to_string()];
    const NAMES: &[&str] = &[
        "client_id",
        "redirect_uri",
        "response_type",
        "response_mode",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
        "max_age",
        "audience",
        "resource",
        "screen_hint",
        "login_hint",
    ];
    const VALUES: &[&str] = &[
        "spa-client",
        "web-client",
        "http://localhost:4200/callback",
        "https://web.example/callback",
        "https://web.example/callback#x",
        "https://evil.example/",
        "code",
        "token id_token",
        "code id_token token",
        "query",
        "fragment",
        "form_post",
        "web_message",
        "openid",
        "none",
        "login consent",
        "S256",
        "plain",
        "-1",
        "99999999999",
        "https://measurements.example/",
        "",
        "%FF",
        "\r\n",
    ];
    let pair = (
        proptest::sample::select(NAMES),
        prop_oneof![
            3 => proptest::sample::select(VALUES).prop_map(str::to_string),
            1 => any::<String>(),
        ],
    );
    let query = prop_oneof![
        3 => proptest::collection::vec(pair, 0..10).prop_map(|pairs| {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs {
                s.append_pair(k, &v);
            }
            s.finish()
        }),
        1 => form_bytes().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&query, |query| {
            match runtime.block_on(validate(&server.state, &query)) {
                Ok(request) => {
                    prop_assert!(request
                        .client
                        .callbacks
                        .contains(&request.target.redirect_uri));
                }
                Err(Invalid::Respond(target, e)) => {
                    prop_assert!(
                        callbacks.contains(&target.redirect_uri),
                        "{}",
                        target.redirect_uri
                    );
                    prop_assert!(!e.error_description.is_empty());
                }
                Err(Invalid::Page(e) | Invalid::Refused(e, _)) => {
                    prop_assert_eq!(e.error, ErrorCode::InvalidRequest);
                }
                Err(Invalid::Internal(e)) => prop_assert!(false, "internal error: {}", e),
            }
            Ok(())
        })
        .unwrap();
    runtime.block_on(server.stop());
}
