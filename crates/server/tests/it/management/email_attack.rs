//! What an administrator with a narrow token, or a stranger holding a link,
//! would try against the email machinery: templates that grow without bound
//! in the mail worker, and links that outlive the address they were sent to.

use super::tickets::create_user;
use super::Mgmt;
use serde_json::json;
use std::time::{Duration, Instant};

const CONN: &str = "Username-Password-Authentication";
const PW: &str = "correct horse battery staple";

/// Queues the verification email as a job and waits until it is settled.
async fn job_outcome(m: &Mgmt, user_id: &str) -> String {
    let r = m
        .post("/jobs/verification-email", json!({"user_id": user_id}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let path = format!("/jobs/{}", r.body["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = m.get(&path).await;
        let status = r.body["status"].as_str().unwrap_or_default().to_string();
        if status != "pending" {
            return status;
        }
        assert!(Instant::now() < deadline, "job still pending: {}", r.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A holder of `update:email_templates` stores Liquid that doubles a string
/// with every line. Storing it is allowed (it parses), but rendering it must
/// stop at a bound instead of taking the worker's memory: the mail is given
/// up, and the next mail goes out as usual.
#[tokio::test]
async fn a_template_that_grows_without_bound_fails_its_mail_not_the_worker() {
    let m = Mgmt::start().await;
    let templater = m.token_with(&["update:email_templates"]).await;
    // 22 doublings are 40 MB; the same lines 40 times would be 10 TB.
    let body = format!(
        "{{% assign s = \"xxxxxxxxxx\" %}}{}<a href=\"{{{{ url }}}}\">{{{{ s | size }}}}</a>",
        "{% capture s %}{{ s }}{{ s }}{% endcapture %}".repeat(22)
    );
    let r = m
        .call_as(
            Some(&templater),
            reqwest::Method::PATCH,
            "/email-templates/verify_email",
            Some(json!({"body": body})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let user = create_user(&m, "victim@example.com").await;
    assert_eq!(job_outcome(&m, &user).await, "failed");
    assert!(m.server.outbox().is_empty(), "nothing was sent");

    // The worker is alive: with a sane template the next job completes.
    let r = m
        .patch(
            "/email-templates/verify_email",
            json!({"body": "<a href=\"{{ url }}\">verify</a>"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(job_outcome(&m, &user).await, "completed");
    m.server.stop().await;
}

/// The path and query of a ticket link, for the test server's client.
fn path_of(m: &Mgmt, r: &crate::support::Reply) -> String {
    assert_eq!(r.status, 201, "{}", r.text);
    let link = r.body["ticket"].as_str().unwrap();
    let path = link
        .strip_prefix(&m.server.base_url)
        .expect("a link to this server");
    path.trim_end_matches('#').to_string()
}

/// A link mailed to the old address must die when an administrator moves the
/// account to a new one (the old mailbox was lost, or is someone else's now):
/// a verification link would otherwise mark the new address verified by a
/// click in the old mailbox, and a reset link would hand the account to
/// whoever reads the old mailbox.
#[tokio::test]
async fn links_sent_to_an_old_address_die_when_the_email_changes() {
    let m = Mgmt::start().await;
    let user_id = create_user(&m, "old-owner@example.com").await;
    let verify = m
        .post("/tickets/email-verification", json!({"user_id": user_id}))
        .await;
    let verify = path_of(&m, &verify);
    let reset = m
        .post("/tickets/password-change", json!({"user_id": user_id}))
        .await;
    let reset = path_of(&m, &reset);

    let r = m
        .patch(
            &format!("/users/{user_id}"),
            json!({"email": "new-owner@example.com", "email_verified": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let page = m.server.get(&verify).await;
    assert_eq!(page.status, 400, "{}", page.text);
    let user = m.server.store.user(&user_id).await.unwrap().unwrap().user;
    assert!(!user.email_verified, "the new address was not verified");
    let page = m.server.get(&reset).await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(!page.text.contains("password_confirm"), "no reset form");
    let page = m
        .server
        .post_form(
            "/u/reset-password",
            &[
                ("ticket", reset.split("ticket=").nth(1).unwrap()),
                ("password", "an0ther Strong passphrase!"),
                ("password_confirm", "an0ther Strong passphrase!"),
            ],
        )
        .await;
    assert_ne!(page.status, 200, "{}", page.text);

    // A change that keeps the address (case aside) leaves the links alone.
    let verify = m
        .post("/tickets/email-verification", json!({"user_id": user_id}))
        .await;
    let verify = path_of(&m, &verify);
    let r = m
        .patch(
            &format!("/users/{user_id}"),
            json!({"email": "New-Owner@example.com", "name": "N"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let page = m.server.get(&verify).await;
    assert_eq!(page.status, 200, "{}", page.text);
    m.server.stop().await;
}

/// An "address" with a display name in it (`Boss<attacker@evil.example>`)
/// reads as one address in the profile and the `email` claim, but a mail
/// library would deliver to the part in brackets: the verification link
/// would go to the attacker and mark the whole string verified. Whether it
/// comes from a signup or the Management API, such a mail is given up and
/// nothing reaches the bracketed address.
#[tokio::test]
async fn an_address_with_a_display_name_is_never_mailed() {
    let m = Mgmt::start().await;
    let r = m
        .post("/clients", json!({"name": "App", "app_type": "spa"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let client_id = r.body["client_id"].as_str().unwrap().to_string();
    let r = m
        .server
        .post_json(
            "/dbconnections/signup",
            json!({"client_id": client_id, "email": "Boss<attacker@evil.example>", "password": PW, "connection": CONN}),
        )
        .await;
    if r.status == 200 {
        assert_eq!(r.body["email_verified"], false, "{}", r.text);
    }
    let user = create_user(&m, "Chief<attacker@evil.example>").await;
    assert_eq!(job_outcome(&m, &user).await, "failed");
    let deadline = Instant::now() + Duration::from_secs(10);
    while m.server.store.pending_mail_count().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "mail still pending");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(m.server.outbox().is_empty(), "nothing was sent");
    for stored in m
        .server
        .store
        .users_with_email("Boss<attacker@evil.example>")
        .await
        .unwrap()
    {
        assert!(!stored.user.email_verified);
    }
    m.server.stop().await;
}

/// liquid's arithmetic panics on overflow, even in release builds for
/// `i64::MIN / -1`. A template doing that must fail its mail, not end the
/// worker (which would leave every later mail of the node pending, and the
/// poison mail would take down the next node that leases it).
#[tokio::test]
async fn a_template_that_panics_fails_its_mail_and_the_worker_goes_on() {
    let m = Mgmt::start().await;
    let r = m
        .patch(
            "/email-templates/verify_email",
            json!({"body": "<a href=\"{{ url }}\">{{ -9223372036854775808 | divided_by: -1 }}</a>"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let user = create_user(&m, "victim@example.com").await;
    assert_eq!(job_outcome(&m, &user).await, "failed");
    let r = m
        .patch(
            "/email-templates/verify_email",
            json!({"body": "<a href=\"{{ url }}\">verify</a>"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(job_outcome(&m, &user).await, "completed");
    m.server.stop().await;
}

/// `change_password` mails no link to a blocked user; a link mailed before
/// the block must not work after it either (setting the password of an
/// account an administrator blocked, and clearing its brute-force blocks).
#[tokio::test]
async fn a_reset_link_stops_working_when_the_user_is_blocked() {
    let m = Mgmt::start().await;
    let user_id = create_user(&m, "blocked@example.com").await;
    let reset = m
        .post("/tickets/password-change", json!({"user_id": user_id}))
        .await;
    let reset = path_of(&m, &reset);
    let r = m
        .patch(&format!("/users/{user_id}"), json!({"blocked": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = m.server.store.user(&user_id).await.unwrap().unwrap();

    let page = m.server.get(&reset).await;
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(!page.text.contains("password_confirm"), "no reset form");
    let new_password = "an0ther Strong passphrase!";
    let page = m
        .server
        .post_form(
            "/u/reset-password",
            &[
                ("ticket", reset.split("ticket=").nth(1).unwrap()),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_ne!(page.status, 200, "{}", page.text);
    let after = m.server.store.user(&user_id).await.unwrap().unwrap();
    assert_eq!(
        after.password_hash, before.password_hash,
        "password unchanged"
    );

    // Unblocked, the (unused) link works again.
    let r = m
        .patch(&format!("/users/{user_id}"), json!({"blocked": false}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let page = m.server.get(&reset).await;
    assert_eq!(page.status, 200, "{}", page.text);
    m.server.stop().await;
}
