//! The database connection's password policy: its options over
//! `PATCH /connections/{id}` (round trip, validation, options stored before
//! they existed), and the policy applied where a password is set — the
//! Management API's user create and update, and the signup page — with
//! Auth0's messages, and nothing written when a password is refused.

use super::{assert_mgmt_error, Mgmt};
use crate::authorize::{get, location, WEB_CALLBACK};
use crate::fixtures::seed;
use crate::pages::{csrf, submit, web_query};
use crate::support::TestServer;
use gatehouse_core::model::DEFAULT_CONNECTION;
use gatehouse_store::{server_values, StoredUser};
use serde_json::{json, Value};

const PATH: &str = "/connections/con_Gatehouse0Database";
const CONN: &str = DEFAULT_CONNECTION;

async fn set_options(m: &Mgmt, options: Value) -> Value {
    let r = m.patch(PATH, json!({ "options": options })).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["options"].clone()
}

async fn stored(m: &Mgmt, email: &str) -> Option<StoredUser> {
    m.server.store.user_by_email(CONN, email).await.unwrap()
}

/// Asserts a Management API refusal of a password with `message`.
fn assert_refused(reply: &crate::support::Reply, message: &str) {
    assert_mgmt_error(reply, 400, "invalid_body");
    assert_eq!(reply.body["message"], message, "{}", reply.text);
}

#[tokio::test]
async fn password_options_round_trip_and_null_unsets() {
    let m = Mgmt::start().await;
    let options = m.get(PATH).await.body["options"].clone();
    assert_eq!(options["passwordPolicy"], "low");
    assert_eq!(
        options["password_complexity_options"],
        json!({"min_length": 8})
    );
    assert_eq!(
        options["password_no_personal_info"],
        json!({"enable": false})
    );
    assert_eq!(
        options["password_dictionary"],
        json!({"enable": true, "dictionary": []})
    );

    let wanted = json!({
        "passwordPolicy": "excellent",
        "password_complexity_options": {"min_length": 12},
        "password_no_personal_info": {"enable": true},
        "password_dictionary": {"enable": true, "dictionary": ["Acme-Widgets-2026"]},
    });
    let written = set_options(&m, wanted.clone()).await;
    let read = m.get(PATH).await.body["options"].clone();
    for key in wanted.as_object().unwrap().keys() {
        assert_eq!(written[key], wanted[key], "{key}");
        assert_eq!(read[key], wanted[key], "{key}");
    }
    assert_eq!(read["disable_signup"], false, "other options are kept");

    // Each option given replaces its own; the others stay.
    let read = set_options(&m, json!({"passwordPolicy": null})).await;
    assert_eq!(read["passwordPolicy"], Value::Null);
    assert_eq!(read["password_complexity_options"]["min_length"], 12);
    let read = set_options(&m, json!({"password_dictionary": null})).await;
    assert_eq!(read["password_dictionary"], Value::Null);
    // null is Auth0's "none" and no dictionary: one character will do.
    let read = set_options(&m, json!({"password_complexity_options": null})).await;
    assert_eq!(read["password_complexity_options"], Value::Null);
    let r = m
        .post(
            "/users",
            json!({"connection": CONN, "email": "tiny@example.com", "password": "x"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn password_options_are_validated_and_refusals_change_nothing() {
    let m = Mgmt::start().await;
    let before = m.get(PATH).await.body["options"].clone();
    let long_word = "x".repeat(51);
    let too_many: Vec<String> = (0..201).map(|i| format!("word-{i}")).collect();
    let refused = [
        json!({"passwordPolicy": "strong"}),
        json!({"passwordPolicy": "GOOD"}),
        json!({"passwordPolicy": 3}),
        json!({"passwordPolicy": ""}),
        json!({"password_complexity_options": {"min_length": 0}}),
        json!({"password_complexity_options": {"min_length": 129}}),
        json!({"password_complexity_options": {"min_length": -1}}),
        json!({"password_complexity_options": {"min_length": 8.5}}),
        json!({"password_complexity_options": {"min_length": "8"}}),
        json!({"password_complexity_options": {"min_length": 4294967304u64}}),
        json!({"password_complexity_options": {"max_length": 8}}),
        json!({"password_no_personal_info": {"enable": "yes"}}),
        json!({"password_dictionary": {"enable": true, "dictionary": [long_word]}}),
        json!({"password_dictionary": {"enable": true, "dictionary": too_many}}),
        json!({"password_dictionary": {"enable": true, "dictionary": "password"}}),
        // A valid option next to a refused one is not written either.
        json!({"disable_signup": true, "passwordPolicy": "weak"}),
    ];
    for options in refused {
        let r = m.patch(PATH, json!({ "options": options })).await;
        assert_mgmt_error(&r, 400, "invalid_body");
        assert_eq!(m.get(PATH).await.body["options"], before, "{options}");
    }
    let r = m
        .patch(PATH, json!({"options": {"passwordPolicy": "strong"}}))
        .await;
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("passwordPolicy"),
        "{}",
        r.text
    );
    // The limits themselves are allowed.
    let fifty = "y".repeat(50);
    let two_hundred: Vec<String> = (0..200).map(|i| format!("word-{i}")).collect();
    set_options(
        &m,
        json!({"password_complexity_options": {"min_length": 128},
               "password_dictionary": {"enable": true, "dictionary": two_hundred}}),
    )
    .await;
    set_options(
        &m,
        json!({"password_complexity_options": {"min_length": 1},
               "password_dictionary": {"enable": false, "dictionary": [fifty]}}),
    )
    .await;
}

#[tokio::test]
async fn options_stored_before_the_policy_load_with_the_default() {
    let m = Mgmt::start().await;
    m.server
        .store
        .put_server_value(
            server_values::DATABASE_CONNECTION_OPTIONS,
            r#"{"disable_signup":true}"#,
        )
        .await
        .unwrap();
    let options = m.get(PATH).await.body["options"].clone();
    assert_eq!(options["disable_signup"], true);
    assert_eq!(options["passwordPolicy"], "low");
    assert_eq!(options["password_complexity_options"]["min_length"], 8);
    assert_eq!(options["password_dictionary"]["enable"], true);
    let r = m
        .post(
            "/users",
            json!({"connection": CONN, "email": "old@example.com", "password": "seven77"}),
        )
        .await;
    assert_refused(&r, "PasswordStrengthError: Password is too weak");
    let r = m
        .post(
            "/users",
            json!({"connection": CONN, "email": "old@example.com", "password": "Password123"}),
        )
        .await;
    assert_refused(&r, "PasswordDictionaryError: Password is too common");
    // Patching one option keeps the stored one and writes the rest.
    set_options(&m, json!({"passwordPolicy": "fair"})).await;
    let options = m.get(PATH).await.body["options"].clone();
    assert_eq!(options["disable_signup"], true);
    assert_eq!(options["passwordPolicy"], "fair");
}

#[tokio::test]
async fn weak_passwords_are_refused_by_create_and_update_and_nothing_changes() {
    let m = Mgmt::start().await;
    set_options(&m, json!({"passwordPolicy": "good"})).await;
    for weak in ["abcdefgh", "ABCDEFGH12", "Abcdefg", "", "        "] {
        let r = m
            .post(
                "/users",
                json!({"connection": CONN, "email": "weak@example.com", "password": weak}),
            )
            .await;
        assert_refused(&r, "PasswordStrengthError: Password is too weak");
    }
    assert!(stored(&m, "weak@example.com").await.is_none());
    let r = m.get("/users-by-email?email=weak@example.com").await;
    assert_eq!(r.body, json!([]));

    let r = m
        .post(
            "/users",
            json!({"connection": CONN, "email": "grace@example.com", "password": "Abcdefg1",
                   "name": "Grace"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["user_id"].as_str().unwrap().to_string();
    let before = stored(&m, "grace@example.com").await.unwrap();
    let r = m
        .patch(
            &format!("/users/{id}"),
            json!({"password": "abcdefgh", "name": "Mallory", "blocked": true}),
        )
        .await;
    assert_refused(&r, "PasswordStrengthError: Password is too weak");
    let after = stored(&m, "grace@example.com").await.unwrap();
    assert_eq!(after.password_hash, before.password_hash);
    assert_eq!(after.user, before.user, "no part of the update was written");

    let r = m
        .patch(&format!("/users/{id}"), json!({"password": "Xyzzy-plugh9"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let changed = stored(&m, "grace@example.com").await.unwrap();
    assert_ne!(changed.password_hash, before.password_hash);
}

#[tokio::test]
async fn personal_information_is_refused_over_http() {
    let m = Mgmt::start().await;
    set_options(&m, json!({"password_no_personal_info": {"enable": true}})).await;
    let user = |password: &str| {
        json!({"connection": CONN, "email": "margaret.hamilton@example.com",
               "password": password, "nickname": "Apollo11", "given_name": "Maggie"})
    };
    for leaky in [
        "MARGARET.HAMILTON-1969",
        "i-am-margaret-from-nasa",
        "to-the-moon-apollo11",
        "call me MAGGIE please",
    ] {
        let r = m.post("/users", user(leaky)).await;
        assert_refused(
            &r,
            "PasswordNoUserInfoError: Password contains user information",
        );
    }
    assert!(stored(&m, "margaret.hamilton@example.com").await.is_none());
    let r = m.post("/users", user("lunar module pilot")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["user_id"].as_str().unwrap().to_string();
    let created = stored(&m, "margaret.hamilton@example.com").await.unwrap();

    // The profile the update leaves is what the password is checked against:
    // a new name and a password made of it, in one request, are refused.
    let r = m
        .patch(
            &format!("/users/{id}"),
            json!({"name": "Zelda Fitzgerald", "password": "fitzgerald-forever"}),
        )
        .await;
    assert_refused(
        &r,
        "PasswordNoUserInfoError: Password contains user information",
    );
    let unchanged = stored(&m, "margaret.hamilton@example.com").await.unwrap();
    assert_eq!(unchanged.user, created.user);
    let r = m
        .patch(
            &format!("/users/{id}"),
            json!({"email": "zelda@example.com", "password": "zelda-at-home-1"}),
        )
        .await;
    assert_refused(
        &r,
        "PasswordNoUserInfoError: Password contains user information",
    );
    assert!(stored(&m, "zelda@example.com").await.is_none());
}

#[tokio::test]
async fn dictionary_and_length_cap_are_applied_over_http() {
    let m = Mgmt::start().await;
    let create = |email: &str, password: &str| json!({"connection": CONN, "email": email, "password": password});
    for common in ["password123", "PASSWORD123", "Qwerty123", "iloveyou"] {
        let r = m.post("/users", create("d@example.com", common)).await;
        assert_refused(&r, "PasswordDictionaryError: Password is too common");
    }
    set_options(
        &m,
        json!({"password_dictionary": {"enable": true, "dictionary": ["Acme-Widgets-2026"]}}),
    )
    .await;
    let r = m
        .post("/users", create("d@example.com", "ACME-WIDGETS-2026"))
        .await;
    assert_refused(&r, "PasswordDictionaryError: Password is too common");
    assert!(stored(&m, "d@example.com").await.is_none());

    let over = "x".repeat(1025);
    let r = m.post("/users", create("d@example.com", &over)).await;
    assert_refused(&r, "PasswordMaxLengthExceededError: Password is too long");
    let at_cap = "x".repeat(1024);
    let r = m.post("/users", create("d@example.com", &at_cap)).await;
    assert_eq!(r.status, 201, "{}", r.text);

    set_options(&m, json!({"password_dictionary": {"enable": false}})).await;
    let r = m
        .post("/users", create("e@example.com", "password123"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn the_signup_page_applies_the_policy() {
    let server = TestServer::start().await;
    let s = seed(server.store.as_ref()).await;
    let m = Mgmt::on(server).await;
    set_options(
        &m,
        json!({"passwordPolicy": "good", "password_no_personal_info": {"enable": true}}),
    )
    .await;
    let server = &m.server;
    let browser = server.browser();
    let q = web_query(&s, &[("screen_hint", "signup")]);
    let page = get(&browser, &server.url(&format!("/u/signup?{q}"))).await;
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Contain at least 3 of the following 4 types of characters:"),
        "{html}"
    );
    assert!(html.contains("minlength=\"8\""), "{html}");
    let token = csrf(get(&browser, &server.url(&format!("/u/signup?{q}"))).await).await;

    let cases = [
        (
            "weakling@example.com",
            "alllowercase1",
            "Password is too weak",
        ),
        (
            "weakling@example.com",
            "Weakling-2026!",
            "Password contains user information",
        ),
        (
            "weakling@example.com",
            "Password123",
            "Password is too common",
        ),
    ];
    for (email, password, message) in cases {
        let resp = submit(server, &browser, "/u/signup", [&token, &q, email, password]).await;
        assert_eq!(resp.status().as_u16(), 400, "{password}");
        let html = resp.text().await.unwrap();
        assert!(html.contains(message), "{password}: {html}");
        assert!(
            html.contains("lower case letters (a-z)"),
            "the rules are shown"
        );
        assert!(stored(&m, email).await.is_none(), "{password}");
    }
    let resp = submit(
        server,
        &browser,
        "/u/signup",
        [&token, &q, "weakling@example.com", "Sup3r-Secret!"],
    )
    .await;
    assert!(location(&resp).starts_with(WEB_CALLBACK), "{resp:?}");
    assert!(stored(&m, "weakling@example.com").await.is_some());
}

#[tokio::test]
async fn the_bootstrap_admin_password_meets_the_stored_policy() {
    use gatehouse_server::bootstrap::{bootstrap, BootstrapError, BootstrapOptions};
    let server = TestServer::start().await;
    let store = server.store.as_ref();
    store
        .put_server_value(
            server_values::DATABASE_CONNECTION_OPTIONS,
            r#"{"passwordPolicy":"excellent","password_complexity_options":{"min_length":24}}"#,
        )
        .await
        .unwrap();
    let with_password = |password: &str| BootstrapOptions {
        admin_email: Some("root@example.com".into()),
        admin_password: Some(password.to_string().into()),
        ..Default::default()
    };
    let refused = bootstrap(
        store,
        &server.issuer,
        with_password("a-long-enough-password"),
        0,
    )
    .await;
    match refused {
        Err(BootstrapError::Invalid(text)) => assert!(
            text.contains("Password is too weak")
                && text.contains("At least 24 characters in length"),
            "{text}"
        ),
        other => panic!("a weak admin password was taken: {:?}", other.map(|_| ())),
    }
    assert!(store
        .user_by_email(CONN, "root@example.com")
        .await
        .unwrap()
        .is_none());
    let creds = bootstrap(store, &server.issuer, BootstrapOptions::default(), 0)
        .await
        .unwrap()
        .unwrap();
    let policy = gatehouse_core::password_policy::PasswordPolicy {
        strength: gatehouse_core::password_policy::Strength::Excellent,
        min_length: Some(24),
        no_personal_info: false,
        dictionary: false,
        dictionary_words: Vec::new(),
    };
    let info = gatehouse_core::password_policy::PersonalInfo::default();
    assert!(policy.check(&creds.admin_password, &info).is_ok());
    assert_eq!(creds.admin_password.chars().count(), 24);
}
