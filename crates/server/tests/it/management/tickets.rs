//! Tickets and the verification-email job: `POST /tickets/password-change`,
//! `POST /tickets/email-verification`, `POST /jobs/verification-email` and
//! `GET /jobs/{id}` — their shapes, the tickets as stored, superseding,
//! scopes, what an attacker would try (foreign tokens, unknown users, bad
//! lifetimes and redirect targets, organizations), and a job from pending to
//! completed.

use super::{assert_mgmt_error, Mgmt};
use gatehouse_core::model::User;
use gatehouse_core::secret::hash_token;
use gatehouse_store::mail_templates::VERIFY_EMAIL;
use gatehouse_store::{QueuedMail, StoredUser, TicketKind, UserTicket};
use reqwest::Method;
use serde_json::{json, Value};

const CONN: &str = "Username-Password-Authentication";
const CONNECTION_ID: &str = "con_Gatehouse0Database";
const PW: &str = "correct horse battery staple";
const FIVE_DAYS: i64 = 432_000;

/// A database user made through the Management API, without the automatic
/// verification email; returns its user_id.
pub(crate) async fn create_user(m: &Mgmt, email: &str) -> String {
    let r = m
        .post(
            "/users",
            // No automatic verification email: its ticket would supersede the ones tested here.
            json!({"connection": CONN, "email": email, "password": PW, "verify_email": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["user_id"].as_str().unwrap().to_string()
}

/// A user stored without an email address (Management API users always have one).
async fn user_without_email(m: &Mgmt) -> String {
    let mut user = User::new(
        gatehouse_core::ids::user_id(),
        "x@example.com",
        m.server.state.now(),
    );
    user.email = None;
    m.server
        .store
        .create_user(&StoredUser {
            user: user.clone(),
            password_hash: None,
        })
        .await
        .unwrap();
    user.user_id
}

/// The ticket a link carries, as stored; asserts the link's shape.
async fn stored_ticket(m: &Mgmt, link: &str, path: &str) -> UserTicket {
    let prefix = format!("{}{path}?ticket=", m.server.base_url);
    let secret = link
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix('#'))
        .unwrap_or_else(|| panic!("{link} is not {prefix}<secret>#"));
    assert!(secret.len() >= 43, "{secret}");
    m.server
        .store
        .ticket(&hash_token(secret))
        .await
        .unwrap()
        .expect("the ticket is stored by its hash")
}

/// The link of a 201 answer, which carries nothing else.
fn link(r: &crate::support::Reply) -> String {
    assert_eq!(r.status, 201, "{}", r.text);
    let body = r.body.as_object().unwrap();
    assert_eq!(body.len(), 1, "{}", r.text);
    r.body["ticket"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn password_change_tickets() {
    let m = Mgmt::start().await;
    let alice = create_user(&m, "Alice@Example.com").await;
    let client_id = m.creds.management_client_id.clone();
    let now = m.server.state.now();

    let r = m
        .post(
            "/tickets/password-change",
            json!({"user_id": alice, "result_url": "https://app.test/done", "ttl_sec": 3600,
                   "mark_email_as_verified": true, "client_id": client_id}),
        )
        .await;
    let first = stored_ticket(&m, &link(&r), "/u/reset-password").await;
    assert_eq!(
        first,
        UserTicket {
            id_hash: first.id_hash.clone(),
            kind: TicketKind::PasswordChange,
            user_id: alice.clone(),
            client_id: Some(client_id),
            result_url: Some("https://app.test/done".into()),
            mark_email_verified: true,
            created_at: now,
            expires_at: now + 3600,
            used_at: None,
            superseded_at: None,
        }
    );

    // By email (in any case) and connection; the new ticket supersedes the
    // first, and includeEmailInRedirect puts the email in the result URL.
    let r = m
        .post(
            "/tickets/password-change",
            json!({"email": "alice@example.COM", "connection_id": CONNECTION_ID,
                   "result_url": "https://app.test/done?from=support#top",
                   "includeEmailInRedirect": true}),
        )
        .await;
    let second = stored_ticket(&m, &link(&r), "/u/reset-password").await;
    assert_eq!(second.user_id, alice);
    assert_eq!(
        second.result_url.as_deref(),
        Some("https://app.test/done?from=support&email=Alice%40Example.com#top")
    );
    assert!(!second.mark_email_verified);
    assert_eq!(second.expires_at - second.created_at, FIVE_DAYS);
    let first_now = m
        .server
        .store
        .ticket(&first.id_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first_now.superseded_at, Some(now));

    // ttl_sec 0 is the default; two links never share a secret.
    let r = m
        .post(
            "/tickets/password-change",
            json!({"user_id": alice, "ttl_sec": 0}),
        )
        .await;
    let third = stored_ticket(&m, &link(&r), "/u/reset-password").await;
    assert_eq!(third.expires_at - third.created_at, FIVE_DAYS);
    assert_ne!(third.id_hash, second.id_hash);
    assert_eq!(third.result_url, None);
    m.server.stop().await;
}

#[tokio::test]
async fn password_change_refusals() {
    let m = Mgmt::start().await;
    let alice = create_user(&m, "alice@example.com").await;
    let cases = [
        (
            json!({"user_id": alice, "organization_id": "org_1"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "ttl_sec": -1}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "ttl_sec": "60"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "ttl_sec": 1.5}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "ttl_sec": 1e30}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "result_url": "javascript:alert(1)"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "result_url": "/relative"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "result_url": "//evil.test/"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "result_url": "https://app.test@evil.test/"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "client_id": "no-such-client"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "client_id": ""}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": "auth0|000000000000000000000000"}),
            404,
            "inexistent_user",
        ),
        (json!({"user_id": ""}), 400, "invalid_body"),
        (
            json!({"email": "nobody@example.com", "connection_id": CONNECTION_ID}),
            404,
            "inexistent_user",
        ),
        // The email is matched exactly (in any case), never as a pattern.
        (
            json!({"email": "%", "connection_id": CONNECTION_ID}),
            404,
            "inexistent_user",
        ),
        (
            json!({"email": "_lice@example.com", "connection_id": CONNECTION_ID}),
            404,
            "inexistent_user",
        ),
        (
            json!({"email": "alice@example.com", "connection_id": "con_other"}),
            404,
            "inexistent_connection",
        ),
        (json!({"email": "alice@example.com"}), 400, "invalid_body"),
        (
            json!({"user_id": alice, "email": "alice@example.com", "connection_id": CONNECTION_ID}),
            400,
            "invalid_body",
        ),
        (json!({}), 400, "invalid_body"),
        (
            json!({"user_id": alice, "new_password": "hunter2hunter2"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": alice, "mark_email_as_verified": "yes"}),
            400,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let r = m.post("/tickets/password-change", body.clone()).await;
        assert_mgmt_error(&r, status, code);
        assert!(r.body.get("ticket").is_none(), "{body}");
    }
    let r = m
        .raw(Method::POST, "/tickets/password-change", "[1, 2]")
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    m.server.stop().await;
}

#[tokio::test]
async fn email_verification_tickets() {
    let m = Mgmt::start().await;
    let bob = create_user(&m, "bob@example.com").await;
    let now = m.server.state.now();
    let r = m
        .post(
            "/tickets/email-verification",
            json!({"user_id": bob, "result_url": "http://localhost:3000/verified", "ttl_sec": 60,
                   "identity": {"user_id": &bob["auth0|".len()..], "provider": "auth0"}}),
        )
        .await;
    let ticket = stored_ticket(&m, &link(&r), "/u/email-verification").await;
    assert_eq!(
        (
            ticket.kind,
            ticket.user_id.as_str(),
            ticket.result_url.as_deref()
        ),
        (
            TicketKind::EmailVerification,
            bob.as_str(),
            Some("http://localhost:3000/verified")
        )
    );
    assert_eq!((ticket.created_at, ticket.expires_at), (now, now + 60));
    assert!(!ticket.mark_email_verified);

    // A password-change ticket of the same user is another kind: untouched.
    let r = m
        .post("/tickets/password-change", json!({"user_id": bob}))
        .await;
    stored_ticket(&m, &link(&r), "/u/reset-password").await;
    let again = m
        .server
        .store
        .ticket(&ticket.id_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.superseded_at, None);

    let no_email = user_without_email(&m).await;
    let cases = [
        (
            json!({"user_id": bob, "organization_id": "org_1"}),
            400,
            "invalid_body",
        ),
        (json!({"user_id": bob, "ttl_sec": -5}), 400, "invalid_body"),
        (
            json!({"user_id": bob, "result_url": "ftp://x.test/"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": bob, "client_id": "nope"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": bob, "identity": {"user_id": "someone-else", "provider": "auth0"}}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": bob, "identity": {"user_id": &bob["auth0|".len()..], "provider": "google-oauth2"}}),
            400,
            "invalid_body",
        ),
        (json!({"user_id": no_email}), 400, "invalid_body"),
        (json!({"user_id": "auth0|nobody"}), 404, "inexistent_user"),
        (
            json!({"result_url": "https://app.test/"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": bob, "mark_email_as_verified": true}),
            400,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let r = m.post("/tickets/email-verification", body.clone()).await;
        assert_mgmt_error(&r, status, code);
    }
    m.server.stop().await;
}

/// Each endpoint with a token that lacks its scope (403), one that has it,
/// and no token (401).
#[tokio::test]
async fn tickets_and_jobs_need_their_scopes() {
    let m = Mgmt::start().await;
    let carol = create_user(&m, "carol@example.com").await;
    let readers = m.token_with(&["read:users"]).await;
    let ticketers = m.token_with(&["create:user_tickets"]).await;
    let updaters = m.token_with(&["update:users"]).await;
    let user = json!({"user_id": carol});
    for path in ["/tickets/password-change", "/tickets/email-verification"] {
        for token in [&readers, &updaters] {
            let r = m
                .call_as(Some(token), Method::POST, path, Some(user.clone()))
                .await;
            assert_mgmt_error(&r, 403, "insufficient_scope");
            assert!(r.body["message"]
                .as_str()
                .unwrap()
                .ends_with("create:user_tickets"));
        }
        let r = m
            .call_as(Some(&ticketers), Method::POST, path, Some(user.clone()))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = m
            .call_as(None, Method::POST, path, Some(user.clone()))
            .await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    for token in [&readers, &ticketers] {
        let r = m
            .call_as(
                Some(token),
                Method::POST,
                "/jobs/verification-email",
                Some(user.clone()),
            )
            .await;
        assert_mgmt_error(&r, 403, "insufficient_scope");
    }
    let r = m
        .call_as(
            Some(&updaters),
            Method::POST,
            "/jobs/verification-email",
            Some(user.clone()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let job = format!("/jobs/{}", r.body["id"].as_str().unwrap());
    for token in [&readers, &updaters, &m.token_with(&["create:users"]).await] {
        let r = m.call_as(Some(token), Method::GET, &job, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = m.call_as(Some(&ticketers), Method::GET, &job, None).await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    let r = m.call_as(None, Method::GET, &job, None).await;
    assert_eq!(r.status, 401, "{}", r.text);

    // The scope is on the system API, so the bootstrap client holds it.
    let api = m
        .server
        .store
        .resource_server_by_identifier(&m.creds.management_audience)
        .await
        .unwrap()
        .unwrap();
    assert!(api.defines_scope("create:user_tickets"));
    m.server.stop().await;
}

/// Another Gatehouse's token and users mean nothing here.
#[tokio::test]
async fn another_tenants_token_and_users_are_refused() {
    let here = Mgmt::start().await;
    let there = Mgmt::start().await;
    let theirs = create_user(&there, "dave@example.com").await;
    for path in [
        "/tickets/password-change",
        "/tickets/email-verification",
        "/jobs/verification-email",
    ] {
        let r = here
            .call_as(
                Some(&there.token),
                Method::POST,
                path,
                Some(json!({"user_id": theirs})),
            )
            .await;
        assert_eq!(r.status, 401, "{path}: {}", r.text);
        let r = here.post(path, json!({"user_id": theirs})).await;
        assert_mgmt_error(&r, 404, "inexistent_user");
    }
    let r = here
        .post(
            "/tickets/password-change",
            json!({"email": "dave@example.com", "connection_id": CONNECTION_ID}),
        )
        .await;
    assert_mgmt_error(&r, 404, "inexistent_user");
    // A job of the other server is unknown here.
    let r = there
        .post("/jobs/verification-email", json!({"user_id": theirs}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = here
        .get(&format!("/jobs/{}", r.body["id"].as_str().unwrap()))
        .await;
    assert_mgmt_error(&r, 404, "inexistent_job");
    here.server.stop().await;
    there.server.stop().await;
}

fn assert_job(job: &Value, id: &str, status: &str) {
    assert_eq!(job["id"], id, "{job}");
    assert_eq!(job["type"], "verification_email", "{job}");
    assert_eq!(job["status"], status, "{job}");
    assert!(job["created_at"].as_str().unwrap().ends_with('Z'), "{job}");
    assert_eq!(job.as_object().unwrap().len(), 4, "{job}");
}

#[tokio::test]
async fn verification_email_job_is_sent() {
    let m = Mgmt::start().await;
    let erin = create_user(&m, "erin@example.com").await;
    let client_id = m.creds.management_client_id.clone();
    let r = m
        .post(
            "/jobs/verification-email",
            json!({"user_id": erin, "client_id": client_id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("job_") && id.len() > 10, "{id}");
    assert_job(&r.body, &id, "pending");
    let mail = m.server.store.mail_by_job(&id).await.unwrap().unwrap();
    assert_eq!(
        (
            mail.template.as_str(),
            mail.user_id.as_str(),
            mail.recipient.as_str()
        ),
        ("verify_email", erin.as_str(), "erin@example.com")
    );
    assert_eq!(mail.client_id.as_deref(), Some(client_id.as_str()));

    let sent = m.server.mails_to("erin@example.com", 1).await;
    assert!(
        sent[0].contains("/u/email-verification?ticket="),
        "{}",
        sent[0]
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = m.get(&format!("/jobs/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        if r.body["status"] == "completed" {
            assert_job(&r.body, &id, "completed");
            break;
        }
        assert_job(&r.body, &id, "pending");
        assert!(std::time::Instant::now() < deadline, "job still {}", r.text);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    m.server.stop().await;
}

/// The status follows the queued mail: sent is `completed`, given up is
/// `failed`. The mails are queued for later so this server's worker leaves
/// them to the test, which settles them through the store as a node would.
#[tokio::test]
async fn job_status_follows_its_mail() {
    let m = Mgmt::start().await;
    let now = m.server.state.now();
    let later = now + 3600;
    let store = &m.server.store;
    for (id, job) in [
        ("mail-sent", "job_sentsentsentsent"),
        ("mail-failed", "job_failfailfailfail"),
    ] {
        let mut mail = QueuedMail::new(id.into(), VERIFY_EMAIL, "auth0|u", "u@example.com", later);
        mail.created_at = now;
        mail.job_id = Some(job.into());
        store.enqueue_mail(&mail).await.unwrap();
        let r = m.get(&format!("/jobs/{job}")).await;
        assert_job(&r.body, job, "pending");
    }
    let claimed = store
        .claim_mail("test-node", later, later + 60, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert!(store
        .mark_mail_sent("mail-sent", "test-node", later)
        .await
        .unwrap());
    store
        .fail_mail("mail-failed", "test-node", later, "550 no such user")
        .await
        .unwrap();
    let r = m.get("/jobs/job_sentsentsentsent").await;
    assert_job(&r.body, "job_sentsentsentsent", "completed");
    let r = m.get("/jobs/job_failfailfailfail").await;
    assert_job(&r.body, "job_failfailfailfail", "failed");
    // A queued mail that is no job is not one by its mail id either.
    store
        .enqueue_mail(&QueuedMail::new(
            "plain".into(),
            VERIFY_EMAIL,
            "auth0|u",
            "u@example.com",
            later,
        ))
        .await
        .unwrap();
    for id in ["plain", "mail-sent"] {
        let r = m.get(&format!("/jobs/{id}")).await;
        assert_mgmt_error(&r, 404, "inexistent_job");
    }
    m.server.stop().await;
}

#[tokio::test]
async fn verification_email_job_refusals() {
    let m = Mgmt::start().await;
    let henry = create_user(&m, "henry@example.com").await;
    let no_email = user_without_email(&m).await;
    // Henry's creation queued his verification mail: let it go first, so the
    // count below is of what the refusals queued (it raced the worker).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while m.server.store.pending_mail_count().await.unwrap() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "creation mail still pending"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let cases = [
        (json!({"user_id": no_email}), 400, "invalid_body"),
        (json!({"user_id": "auth0|nobody"}), 404, "inexistent_user"),
        (json!({}), 400, "invalid_body"),
        (
            json!({"user_id": henry, "organization_id": "org_1"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": henry, "client_id": "nope"}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": henry, "identity": {"user_id": "x", "provider": "auth0"}}),
            400,
            "invalid_body",
        ),
        (
            json!({"user_id": henry, "result_url": "https://app.test/"}),
            400,
            "invalid_body",
        ),
    ];
    for (body, status, code) in cases {
        let r = m.post("/jobs/verification-email", body.clone()).await;
        assert_mgmt_error(&r, status, code);
    }
    // Nothing was queued by the refusals.
    assert_eq!(m.server.store.pending_mail_count().await.unwrap(), 0);
    let r = m.get("/jobs/job_doesnotexist0000").await;
    assert_mgmt_error(&r, 404, "inexistent_job");
    let r = m.get("/jobs/job%00x").await;
    assert_mgmt_error(&r, 400, "invalid_uri");
    m.server.stop().await;
}
