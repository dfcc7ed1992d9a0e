//! What an administrator with a narrow token, or a stranger holding a link,
//! would try against the email machinery: templates that grow without bound
//! in the mail worker, and links that outlive the address they were sent to.

use super::Mgmt;
use serde_json::json;
use std::time::{Duration, Instant};

const CONN: &str = "Username-Password-Authentication";
const PW: &str = "correct horse battery staple";

async fn create_user(m: &Mgmt, email: &str) -> String {
    let r = m
        .post(
            "/users",
            json!({"connection": CONN, "email": email, "password": PW, "verify_email": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["user_id"].as_str().unwrap().to_string()
}

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
