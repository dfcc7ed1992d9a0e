//! `/email-templates` and `/emails/provider`: round trips, Liquid refused
//! before it is stored, HTML escaping in the mails actually sent, the SMTP
//! password never answered nor stored in clear, scopes, and bad input that
//! is a 400, never a 500.

use super::{assert_mgmt_error, Mgmt};
use gatehouse_mail::templates::{RESET_EMAIL, VERIFY_EMAIL};
use gatehouse_mail::Transport;
use gatehouse_server::email::{queue, settings, DEFAULT_FROM};
use reqwest::Method;
use serde_json::{json, Value};

const CONN: &str = "Username-Password-Authentication";
const PW: &str = "correct horse battery staple";
const SMTP_PASS: &str = "Sm7p-pass-never-shown-4kQ";

async fn put(m: &Mgmt, path: &str, body: Value) -> crate::support::Reply {
    m.call(Method::PUT, path, Some(body)).await
}

#[tokio::test]
async fn templates_read_defaults_and_round_trip() {
    let m = Mgmt::start().await;
    let r = m.get("/email-templates/verify_email").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["template"], "verify_email");
    assert_eq!(r.body["syntax"], "liquid");
    assert_eq!(r.body["from"], "");
    assert_eq!(r.body["enabled"], true);
    assert_eq!(r.body["urlLifetimeInSeconds"], 432_000);
    assert_eq!(r.body["includeEmailInRedirect"], false);
    assert!(r.body["body"].as_str().unwrap().contains("{{ url }}"));
    let welcome = m.get("/email-templates/welcome_email").await;
    assert_eq!(welcome.body["enabled"], false);

    let r = m
        .patch(
            "/email-templates/verify_email",
            json!({
                "subject": "Confirm {{ user.email }}",
                "body": "<p>Hi {{ user.email }}: <a href=\"{{ url }}\">verify</a></p>",
                "from": "Team <team@example.com>",
                "resultUrl": "https://app.example.com/verified",
                "urlLifetimeInSeconds": 3600,
                "includeEmailInRedirect": true
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = m.get("/email-templates/verify_email").await;
    assert_eq!(r.body["subject"], "Confirm {{ user.email }}");
    assert_eq!(r.body["from"], "Team <team@example.com>");
    assert_eq!(r.body["resultUrl"], "https://app.example.com/verified");
    assert_eq!(r.body["urlLifetimeInSeconds"], 3600);
    assert_eq!(r.body["includeEmailInRedirect"], true);
    assert_eq!(r.body["enabled"], true, "fields left out are kept");

    // null clears; PATCH leaves the rest.
    let r = m
        .patch(
            "/email-templates/verify_email",
            json!({"resultUrl": null, "enabled": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["resultUrl"].is_null());
    assert_eq!(r.body["from"], "Team <team@example.com>");

    // PUT replaces: what it leaves out takes the default's value.
    let r = put(
        &m,
        "/email-templates/verify_email",
        json!({"subject": "S", "body": "<p>{{ url }}</p>"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["from"], "");
    assert_eq!(r.body["enabled"], true);
    assert_eq!(r.body["urlLifetimeInSeconds"], 432_000);
    let r = put(&m, "/email-templates/verify_email", json!({"subject": "S"})).await;
    assert_mgmt_error(&r, 400, "invalid_body");

    // The other templates are untouched.
    let r = m.get("/email-templates/reset_email").await;
    assert_eq!(r.body["subject"], "Reset your password");

    // POST creates once; a stored template conflicts.
    let create = json!({"template": "welcome_email", "subject": "Hello", "body": "<p>Welcome</p>", "enabled": true});
    let r = m.post("/email-templates", create.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["enabled"], true);
    let r = m.post("/email-templates", create).await;
    assert_mgmt_error(&r, 409, "email_template_conflict");
    let r = m
        .post(
            "/email-templates",
            json!({"template": "verify_email", "subject": "x", "body": "y"}),
        )
        .await;
    assert_mgmt_error(&r, 409, "email_template_conflict");
    let r = m
        .post(
            "/email-templates",
            json!({"template": "reset_email", "subject": "x"}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m
        .post("/email-templates", json!({"subject": "x", "body": "y"}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m
        .post(
            "/email-templates",
            json!({"template": "blocked_account", "subject": "x", "body": "y"}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");

    for name in [
        "bogus",
        "blocked_account",
        "verify_email.json",
        "VERIFY_EMAIL",
    ] {
        let r = m.get(&format!("/email-templates/{name}")).await;
        assert_mgmt_error(&r, 404, "inexistent_email_template");
        let r = m
            .patch(
                &format!("/email-templates/{name}"),
                json!({"enabled": true}),
            )
            .await;
        assert_mgmt_error(&r, 404, "inexistent_email_template");
    }
    m.server.stop().await;
}

#[tokio::test]
async fn broken_liquid_is_refused_and_nothing_is_stored() {
    let m = Mgmt::start().await;
    let before = m.get("/email-templates/reset_email").await.body;
    let broken = [
        json!({"body": "{% if %}"}),
        json!({"body": "{{ user.email "}),
        json!({"body": "{% for x in y %}never closed"}),
        json!({"body": "{{ url | no_such_filter }}"}),
        json!({"subject": "{% nosuchtag %}"}),
        json!({"body": "{% for i in (1..1000000000) %}x{% endfor %}"}),
        json!({"body": "{% for i in (1..user.user_metadata.n) %}x{% endfor %}"}),
        json!({"body": "x".repeat(100 * 1024 + 1)}),
    ];
    for body in &broken {
        let r = m.patch("/email-templates/reset_email", body.clone()).await;
        assert_mgmt_error(&r, 400, "invalid_body");
        let message = r.body["message"].as_str().unwrap();
        assert!(message.contains("Liquid"), "{message}");
        let mut replace = body.clone();
        replace["subject"] = json!(replace.get("subject").cloned().unwrap_or(json!("s")));
        replace["body"] = json!(replace.get("body").cloned().unwrap_or(json!("b")));
        let r = put(&m, "/email-templates/reset_email", replace.clone()).await;
        assert_mgmt_error(&r, 400, "invalid_body");
        replace["template"] = json!("reset_email");
        let r = m.post("/email-templates", replace).await;
        assert_mgmt_error(&r, 400, "invalid_body");
    }
    let r = m
        .patch("/email-templates/reset_email", json!({"body": "{% if %}"}))
        .await;
    assert!(
        r.body["message"].as_str().unwrap().contains("body"),
        "{}",
        r.text
    );
    assert_eq!(m.get("/email-templates/reset_email").await.body, before);
    let stored = m
        .server
        .store
        .server_value("email_template:reset_email")
        .await
        .unwrap();
    assert_eq!(stored, None, "nothing was stored");
    // POST was refused every time, so it can still create.
    let r = m
        .post(
            "/email-templates",
            json!({"template": "reset_email", "subject": "s", "body": "{{ url }}"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    m.server.stop().await;
}

#[tokio::test]
async fn bad_template_input_is_400_never_500() {
    let m = Mgmt::start().await;
    let path = "/email-templates/verify_email";
    for body in [
        json!({"syntax": "handlebars"}),
        json!({"resultUrl": "javascript:alert(1)"}),
        json!({"resultUrl": "/relative"}),
        json!({"resultUrl": "https://x.example/a\r\nb"}),
        json!({"resultUrl": format!("https://x.example/{}", "a".repeat(3000))}),
        json!({"resultUrl": 5}),
        json!({"urlLifetimeInSeconds": 0}),
        json!({"urlLifetimeInSeconds": -1}),
        json!({"urlLifetimeInSeconds": 2_592_001}),
        json!({"urlLifetimeInSeconds": 1e300}),
        json!({"urlLifetimeInSeconds": "3600"}),
        json!({"from": "not an address"}),
        json!({"from": "a@example.com\r\nBcc: victim@example.com"}),
        json!({"from": format!("{}@example.com", "a".repeat(400))}),
        json!({"template": "reset_email"}),
        json!({"enabled": "yes"}),
        json!({"body": 5}),
        json!({"unknown": 1}),
        json!({"body": "nul \u{0} inside"}),
    ] {
        let r = m.patch(path, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["statusCode"], 400, "{}", r.text);
        assert!(r.body["message"].is_string(), "{}", r.text);
    }
    for raw in ["", "[]", "not json", "{\"subject\":"] {
        let r = m.raw(Method::PATCH, path, raw).await;
        assert_eq!(r.status, 400, "{raw:?}: {}", r.text);
    }
    let r = m.get("/email-templates/verify%00_email").await;
    assert_eq!(r.status, 400, "{}", r.text);
    // The boundary values are accepted.
    for seconds in [1, 2_592_000] {
        let r = m
            .patch(path, json!({"urlLifetimeInSeconds": seconds}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    m.server.stop().await;
}

/// A mail's text with its quoted-printable soft breaks and `=XX` escapes decoded.
fn decode_qp(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn create_user(m: &Mgmt, email: &str, name: &str) -> gatehouse_core::model::User {
    let r = m
        .post(
            "/users",
            // No verification mail on creation: each test sends the mails it reads.
            json!({"connection": CONN, "email": email, "password": PW, "name": name, "verify_email": false}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["user_id"].as_str().unwrap();
    m.server.store.user(id).await.unwrap().unwrap().user
}

async fn send(m: &Mgmt, template: &'static str, user: &gatehouse_core::model::User) {
    queue::enqueue(
        &m.server.state,
        queue::MailRequest {
            template,
            user,
            client_id: None,
            result_url: None,
            ttl_seconds: None,
            job_id: None,
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn values_are_escaped_in_the_mail_sent() {
    let m = Mgmt::start().await;
    let r = m
        .patch(
            "/email-templates/reset_email",
            json!({
                "subject": "For {{ user.name }}",
                "body": "<p id=\"n\">{{ user.name }}</p><p>{{ user.name | upcase }}</p><a href=\"{{ url }}\">reset</a>"
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let user = create_user(&m, "mallory@example.com", "<script>alert(\"x\")</script>").await;
    send(&m, RESET_EMAIL, &user).await;
    let mails = m.server.mails_to("mallory@example.com", 1).await;
    let mail = mails
        .iter()
        .map(|raw| decode_qp(raw))
        .find(|mail| mail.contains("Subject: For "))
        .expect("the reset mail");
    let (text, html) = mail.split_at(mail.find("Content-Type: text/html").expect("an HTML part"));
    assert!(
        !html.contains("<script") && !html.contains("<SCRIPT"),
        "{html}"
    );
    assert!(
        html.contains("<p id=\"n\">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>"),
        "{html}"
    );
    // The plain-text part and the subject are not HTML: the name reads as written.
    assert!(
        text.contains("\r\n<script>alert(\"x\")</script>\r\n"),
        "{text}"
    );
    assert!(
        mail.contains("Subject: For <script>alert(\"x\")</script>\r\n"),
        "{mail}"
    );
    assert!(
        html.contains("<a href=\"http"),
        "the link itself is kept: {html}"
    );
    m.server.stop().await;
}

fn provider_body() -> Value {
    json!({
        "name": "smtp",
        "enabled": true,
        "default_from_address": "Acme <no-reply@acme.example>",
        "credentials": {
            "smtp_host": "smtp.acme.example",
            "smtp_port": 587,
            "smtp_user": "mailer",
            "smtp_pass": SMTP_PASS
        }
    })
}

async fn stored_provider(m: &Mgmt) -> String {
    m.server
        .store
        .server_value("email_provider")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test]
async fn the_provider_round_trips_and_its_password_never_shows() {
    let m = Mgmt::start().await;
    let r = m.get("/emails/provider").await;
    assert_mgmt_error(&r, 404, "inexistent_email_provider");
    assert_eq!(r.body["message"], "There is no configured email provider");

    let r = m.post("/emails/provider", provider_body()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        !r.text.contains(SMTP_PASS) && !r.text.contains("smtp_pass"),
        "{}",
        r.text
    );
    let want = json!({
        "name": "smtp",
        "enabled": true,
        "default_from_address": "Acme <no-reply@acme.example>",
        "credentials": {"smtp_host": "smtp.acme.example", "smtp_port": 587, "smtp_user": "mailer"}
    });
    assert_eq!(r.body, want);
    let r = m.get("/emails/provider").await;
    assert_eq!(r.body, want);
    assert!(!r.text.contains(SMTP_PASS));
    let r = m
        .get("/emails/provider?fields=name,enabled&include_fields=true")
        .await;
    assert_eq!(r.body, json!({"name": "smtp", "enabled": true}));

    // At rest: sealed, not in clear.
    let stored = stored_provider(&m).await;
    assert!(!stored.contains(SMTP_PASS), "{stored}");
    assert!(stored.contains("sealed:v1:"), "{stored}");
    let (mailer, from) = settings::mailer(&m.server.state).await.unwrap().unwrap();
    assert_eq!(from, "Acme <no-reply@acme.example>");
    match mailer.transport() {
        Transport::Smtp(s) => {
            assert_eq!((s.host.as_str(), s.port), ("smtp.acme.example", 587));
            assert_eq!(
                s.password.as_deref(),
                Some(SMTP_PASS),
                "the worker gets the password"
            );
            assert!(!s.implicit_tls);
        }
        other => panic!("the provider is in force: {other:?}"),
    }

    let r = m.post("/emails/provider", provider_body()).await;
    assert_mgmt_error(&r, 409, "email_provider_conflict");

    // Moving the credentials elsewhere needs the password again.
    for credentials in [
        json!({"smtp_host": "attacker.example"}),
        json!({"smtp_port": 2525}),
        json!({"smtp_user": "someone-else"}),
    ] {
        let r = m
            .patch("/emails/provider", json!({"credentials": credentials}))
            .await;
        assert_mgmt_error(&r, 400, "invalid_body");
        assert!(
            r.body["message"].as_str().unwrap().contains("smtp_pass"),
            "{}",
            r.text
        );
    }
    assert_eq!(m.get("/emails/provider").await.body, want);
    let r = m
        .patch(
            "/emails/provider",
            json!({"credentials": {"smtp_host": "smtp.acme.example", "smtp_user": "mailer"}}),
        )
        .await;
    assert_eq!(
        r.status, 200,
        "unchanged values need no password: {}",
        r.text
    );
    let r = m
        .patch(
            "/emails/provider",
            json!({"credentials": {"smtp_host": "mail.acme.example", "smtp_port": 465, "smtp_pass": "new-pass-1"}, "default_from_address": ""}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["credentials"]["smtp_host"], "mail.acme.example");
    assert!(r.body.get("default_from_address").is_none(), "{}", r.text);
    let (mailer, from) = settings::mailer(&m.server.state).await.unwrap().unwrap();
    assert_eq!(from, DEFAULT_FROM, "no sender configured anywhere");
    match mailer.transport() {
        Transport::Smtp(s) => {
            assert_eq!(s.password.as_deref(), Some("new-pass-1"));
            assert!(s.implicit_tls, "port 465");
        }
        other => panic!("{other:?}"),
    }

    // Disabled: the node's own configuration (the test outbox) is back in force.
    let r = m.patch("/emails/provider", json!({"enabled": false})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (mailer, _) = settings::mailer(&m.server.state).await.unwrap().unwrap();
    assert!(matches!(mailer.transport(), Transport::Outbox(_)));

    let r = m.delete("/emails/provider").await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_mgmt_error(
        &m.get("/emails/provider").await,
        404,
        "inexistent_email_provider",
    );
    assert_mgmt_error(
        &m.delete("/emails/provider").await,
        404,
        "inexistent_email_provider",
    );
    assert_mgmt_error(
        &m.patch("/emails/provider", json!({"enabled": true})).await,
        404,
        "inexistent_email_provider",
    );
    assert!(!stored_provider(&m).await.contains("sealed:"));
    let r = m.post("/emails/provider", provider_body()).await;
    assert_eq!(r.status, 201, "created again after a delete: {}", r.text);
    m.server.stop().await;
}

#[tokio::test]
async fn bad_provider_input_is_400_never_500() {
    let m = Mgmt::start().await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut body = provider_body();
        f(&mut body);
        body
    };
    let bodies = [
        with(&|b| b["name"] = json!("sendgrid")),
        with(&|b| b["name"] = json!("")),
        with(&|b| b["name"] = json!(null)),
        with(&|b| {
            b.as_object_mut().unwrap().remove("credentials");
        }),
        with(&|b| b["credentials"] = json!("smtp://x")),
        with(&|b| b["credentials"] = json!({"api_key": "x", "smtp_host": "h"})),
        with(&|b| b["credentials"]["smtp_host"] = json!("")),
        with(&|b| {
            b["credentials"]
                .as_object_mut()
                .unwrap()
                .remove("smtp_host");
        }),
        with(&|b| b["credentials"]["smtp_host"] = json!("user@evil.example")),
        with(&|b| b["credentials"]["smtp_host"] = json!("evil.example/path")),
        with(&|b| b["credentials"]["smtp_host"] = json!("a b")),
        with(&|b| b["credentials"]["smtp_host"] = json!("host:25")),
        with(&|b| b["credentials"]["smtp_host"] = json!("[nope]")),
        with(&|b| b["credentials"]["smtp_port"] = json!(0)),
        with(&|b| b["credentials"]["smtp_port"] = json!(65536)),
        with(&|b| b["credentials"]["smtp_port"] = json!(-1)),
        with(&|b| b["credentials"]["smtp_port"] = json!("587")),
        with(&|b| b["credentials"]["smtp_user"] = json!("")),
        with(&|b| b["credentials"]["smtp_user"] = json!("a\r\nb")),
        with(&|b| b["credentials"]["smtp_pass"] = json!("p".repeat(2000))),
        with(&|b| b["default_from_address"] = json!("not an address")),
        with(&|b| b["default_from_address"] = json!("a@b.example\nBcc: c@d.example")),
        with(&|b| b["enabled"] = json!("true")),
        with(&|b| b["extra"] = json!(1)),
    ];
    for body in &bodies {
        let r = m.post("/emails/provider", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["statusCode"], 400, "{}", r.text);
        assert!(!r.text.contains(SMTP_PASS), "{}", r.text);
    }
    assert_eq!(stored_provider(&m).await, "", "nothing was stored");
    for raw in ["", "[]", "nope", "{\"name\":"] {
        let r = m.raw(Method::POST, "/emails/provider", raw).await;
        assert_eq!(r.status, 400, "{raw:?}: {}", r.text);
    }
    // A host and an IPv6 literal that are fine.
    let r = m
        .post(
            "/emails/provider",
            with(&|b| b["credentials"]["smtp_host"] = json!("[::1]")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["credentials"]["smtp_host"], "::1");
    for body in [
        json!({"name": "ses"}),
        json!({"credentials": {"smtp_port": 0}}),
        json!({"credentials": {"smtp_host": "x y", "smtp_pass": "p"}}),
        json!({"credentials": []}),
        json!({"default_from_address": "nope"}),
        json!({"enabled": 1}),
    ] {
        let r = m.patch("/emails/provider", body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    m.server.stop().await;
}

#[tokio::test]
async fn scopes_guard_templates_and_provider() {
    let m = Mgmt::start().await;
    let read_templates = m.token_with(&["read:email_templates"]).await;
    let update_templates = m.token_with(&["update:email_templates"]).await;
    let read_provider = m
        .token_with(&["read:email_provider", "update:email_templates"])
        .await;
    let create_provider = m.token_with(&["create:email_provider"]).await;
    let as_ = |token: &str, method: Method, path: &str, body: Option<Value>| {
        let token = token.to_string();
        let path = path.to_string();
        let m = &m;
        async move { m.call_as(Some(&token), method, &path, body).await }
    };
    let t = "/email-templates/verify_email";
    assert_eq!(as_(&read_templates, Method::GET, t, None).await.status, 200);
    let r = as_(
        &read_templates,
        Method::PATCH,
        t,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    let r = as_(
        &update_templates,
        Method::PATCH,
        t,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = as_(&update_templates, Method::GET, t, None).await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    let r = as_(
        &update_templates,
        Method::POST,
        "/email-templates",
        Some(json!({"template": "welcome_email", "subject": "s", "body": "b"})),
    )
    .await;
    assert_mgmt_error(&r, 403, "insufficient_scope");

    let p = "/emails/provider";
    let r = as_(&read_provider, Method::POST, p, Some(provider_body())).await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    let r = as_(&create_provider, Method::POST, p, Some(provider_body())).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = as_(&create_provider, Method::GET, p, None).await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    let r = as_(&read_provider, Method::GET, p, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    for method in [Method::PATCH, Method::DELETE] {
        let r = as_(
            &read_provider,
            method.clone(),
            p,
            Some(json!({"enabled": false})),
        )
        .await;
        assert_mgmt_error(&r, 403, "insufficient_scope");
    }
    let r = m.call_as(None, Method::GET, p, None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = m.call_as(None, Method::GET, t, None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    m.server.stop().await;
}

/// The provider in force delivers: an aiosmtpd server on loopback receives
/// the mail the queue sends (skipped without aiosmtpd).
#[tokio::test]
async fn mail_goes_through_the_stored_provider() {
    let Some(smtp) = AioSmtpd::start() else {
        return;
    };
    let m = Mgmt::start().await;
    let r = m
        .post(
            "/emails/provider",
            json!({
                "name": "smtp",
                "default_from_address": "Provider <from@provider.example>",
                "credentials": {"smtp_host": "127.0.0.1", "smtp_port": smtp.port}
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let user = create_user(&m, "ann@example.com", "Ann").await;
    send(&m, VERIFY_EMAIL, &user).await;
    let mail = decode_qp(&smtp.delivered(1).await);
    assert!(mail.contains("To: ann@example.com"), "{mail}");
    assert!(
        mail.contains("From: Provider <from@provider.example>"),
        "{mail}"
    );
    assert!(mail.contains("Subject: Verify your email"), "{mail}");
    assert!(
        m.server.outbox().is_empty(),
        "not written to the node's outbox"
    );
    m.server.stop().await;
}

/// The mail crate's aiosmtpd test server (crates/mail/tests/aiosmtpd_server.py).
struct AioSmtpd {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl AioSmtpd {
    fn start() -> Option<Self> {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            println!(
                "skipped: python3 with aiosmtpd is not installed; the e2e suite covers real SMTP"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../mail/tests/aiosmtpd_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap();
        Some(Self { child, port, dir })
    }

    async fn delivered(&self, n: usize) -> String {
        let eml = self.dir.path().join(format!("{n}.eml"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !eml.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "mail {n} was not delivered"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        std::fs::read_to_string(eml).unwrap()
    }
}

impl Drop for AioSmtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
