//! Actions in the token flows, over HTTP: Auth0's quickstart Actions run
//! unchanged (roles in both tokens, deny unverified users, a claim in M2M
//! tokens), scopes added and removed, restricted claims refused, every limit
//! failing its own request cleanly while other clients keep being served,
//! pre-user-registration on the Management API, and each effect in the trace.

use crate::authorize::{encode, get, location, params_of, WEB_CALLBACK};
use crate::fixtures::{seed, Seeded, API, PASSWORD};
use crate::management::user_flows::{claims, csrf_field, post};
use crate::management::Mgmt;
use crate::support::Reply;
use gatehouse_core::model::{AppType, Client, ClientGrant, SubjectType};
use gatehouse_core::secret::hash_token;
use gatehouse_store::StoredClient;
use serde_json::{json, Value};

const ROLES_AND_VERIFIED: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  const ns = 'https://measurements.example/';
  api.accessToken.setCustomClaim(ns + 'roles', event.authorization.roles);
  api.idToken.setCustomClaim(ns + 'roles', event.authorization.roles);
  if (!event.user.email_verified) api.access.deny('Please verify your email first.');
};
"#;

const M2M_CLAIM: &str = r#"
exports.onExecuteCredentialsExchange = async (event, api) => {
  api.accessToken.setCustomClaim('https://measurements.example/client', event.client.name);
};
"#;

struct World {
    m: Mgmt,
    s: Seeded,
}

async fn start() -> World {
    let m = Mgmt::start().await;
    let s = seed(m.server.store.as_ref()).await;
    World { m, s }
}

impl World {
    /// Creates and deploys an Action; returns its id.
    async fn deploy(&self, name: &str, trigger: &str, code: &str) -> String {
        let created = self
            .m
            .post(
                "/actions/actions",
                json!({
                    "name": name,
                    "supported_triggers": [{ "id": trigger, "version": "v3" }],
                    "code": code,
                    "secrets": [{ "name": "API_KEY", "value": "k-secret-1234567890" }],
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let id = created.body["id"].as_str().expect("id").to_string();
        let deployed = self
            .m
            .post(&format!("/actions/actions/{id}/deploy"), json!({}))
            .await;
        assert!(deployed.status.is_success(), "{}", deployed.text);
        id
    }

    /// Makes `ids` the trigger's flow, in order.
    async fn bind(&self, trigger: &str, ids: &[&str]) {
        let bindings: Vec<Value> = ids
            .iter()
            .map(|id| json!({ "ref": { "type": "action_id", "value": id }, "display_name": id }))
            .collect();
        let reply = self
            .m
            .patch(
                &format!("/actions/triggers/{trigger}/bindings"),
                json!({ "bindings": bindings }),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }

    async fn deploy_and_bind(&self, name: &str, trigger: &str, code: &str) -> String {
        let id = self.deploy(name, trigger, code).await;
        self.bind(trigger, &[&id]).await;
        id
    }

    async fn token(&self, pairs: &[(&str, &str)]) -> Reply {
        self.m.server.post_form("/oauth/token", pairs).await
    }

    async fn m2m(&self, client_id: &str, secret: &str) -> Reply {
        self.token(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("audience", API),
        ])
        .await
    }

    async fn password(&self, email: &str, scope: &str) -> Reply {
        self.token(&[
            ("grant_type", "password"),
            ("client_id", &self.s.web_id),
            ("client_secret", &self.s.web_secret),
            ("username", email),
            ("password", PASSWORD),
            ("audience", API),
            ("scope", scope),
        ])
        .await
    }

    /// Logs `email` in through `/authorize` and the login page; returns where
    /// the browser is sent back to.
    async fn login(&self, email: &str) -> String {
        let browser = self.m.server.browser();
        let query = encode(&[
            ("client_id", self.s.web_id.as_str()),
            ("redirect_uri", WEB_CALLBACK),
            ("response_type", "code"),
            ("audience", API),
            ("scope", "openid profile read:measurements"),
            ("state", "st"),
            ("nonce", "n"),
        ]);
        let url = self.m.server.url(&format!("/authorize?{query}"));
        let to_page = location(&get(&browser, &url).await);
        let page = get(&browser, &self.m.server.url(&to_page)).await;
        let csrf = csrf_field(&page.text().await.unwrap());
        let resp = post(
            &browser,
            &self.m.server.url("/u/login"),
            &[
                ("csrf", &csrf),
                ("authorize", &query),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await;
        location(&resp)
    }

    async fn exchange(&self, back: &str) -> Reply {
        let code = params_of(back, '?')["code"].clone();
        self.token(&[
            ("grant_type", "authorization_code"),
            ("client_id", &self.s.web_id),
            ("client_secret", &self.s.web_secret),
            ("code", &code),
            ("redirect_uri", WEB_CALLBACK),
        ])
        .await
    }

    /// The log event a response named in `Gatehouse-Log-Id`.
    async fn event_of(&self, reply: &Reply) -> Value {
        let id = reply
            .header("gatehouse-log-id")
            .expect("a log id")
            .to_string();
        let event = self.m.get(&format!("/logs/{id}")).await;
        assert_eq!(event.status, 200, "{}", event.text);
        event.body
    }

    /// Another machine-to-machine client with a grant on the API.
    async fn another_m2m(&self, id: &str) -> String {
        let secret = format!("{id}-secret-with-enough-entropy-0123456789");
        let store = self.m.server.store.as_ref();
        let now = self.m.server.state.now();
        let client = Client::new(id, id, AppType::NonInteractive);
        store
            .create_client(
                &StoredClient {
                    client,
                    secret_hash: Some(hash_token(&secret)),
                },
                now,
            )
            .await
            .unwrap();
        store
            .create_client_grant(
                &ClientGrant {
                    id: format!("cgr_{id}"),
                    client_id: Some(id.into()),
                    default_for: None,
                    audience: API.into(),
                    scope: vec!["read:measurements".into()],
                    subject_type: SubjectType::Client,
                    allow_all_scopes: false,
                },
                now,
            )
            .await
            .unwrap();
        secret
    }
}

fn notes(trace_holder: &Value) -> String {
    trace_holder["details"]["trace"]["actions"].to_string()
}

#[tokio::test]
async fn the_roles_quickstart_puts_roles_in_both_tokens_and_explains_them() {
    let w = start().await;
    w.deploy_and_bind("Add roles", "post-login", ROLES_AND_VERIFIED)
        .await;
    let back = w.login("alice@example.com").await;
    assert!(back.starts_with(WEB_CALLBACK), "{back}");
    let tokens = w.exchange(&back).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let roles = json!(["reader"]);
    let access = claims(tokens.body["access_token"].as_str().unwrap());
    let id = claims(tokens.body["id_token"].as_str().unwrap());
    assert_eq!(access["https://measurements.example/roles"], roles);
    assert_eq!(id["https://measurements.example/roles"], roles);
    let event = w.event_of(&tokens).await;
    assert!(
        notes(&event)
            .contains("claim https://measurements.example/roles set by the Action 'Add roles'"),
        "{}",
        notes(&event)
    );
}

#[tokio::test]
async fn an_unverified_user_is_denied_with_the_actions_reason() {
    let w = start().await;
    w.deploy_and_bind("Require verified email", "post-login", ROLES_AND_VERIFIED)
        .await;
    let store = w.m.server.store.as_ref();
    let mut bob = store.user(&w.s.bob.user_id).await.unwrap().unwrap();
    bob.user.email_verified = false;
    store.update_user(&bob).await.unwrap();

    let back = w.login("bob@example.com").await;
    let p = params_of(&back, '?');
    assert!(back.starts_with(WEB_CALLBACK), "{back}");
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["error_description"], "Please verify your email first.");
    assert!(!p.contains_key("code"));

    let denied = w.password("bob@example.com", "openid").await;
    assert_eq!(denied.status, 403, "{}", denied.text);
    assert_eq!(denied.body["error"], "access_denied");
    assert_eq!(
        denied.body["error_description"],
        "Please verify your email first."
    );
    let event = w.event_of(&denied).await;
    let refusal = event["details"]["refusal"].to_string();
    assert!(
        refusal.contains(
            "denied by the Action 'Require verified email': Please verify your email first."
        ),
        "{refusal}"
    );
}

#[tokio::test]
async fn a_credentials_exchange_action_adds_a_claim_to_m2m_tokens() {
    let w = start().await;
    w.deploy_and_bind("M2M claim", "credentials-exchange", M2M_CLAIM)
        .await;
    let reply = w.m2m(&w.s.m2m_id, &w.s.m2m_secret).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let access = claims(reply.body["access_token"].as_str().unwrap());
    assert_eq!(access["https://measurements.example/client"], "Machine");
    let event = w.event_of(&reply).await;
    assert!(
        notes(&event).contains("set by the Action 'M2M claim'"),
        "{event}"
    );
}

#[tokio::test]
async fn each_grant_says_which_protocol_it_is_and_scopes_can_be_trimmed() {
    let w = start().await;
    let code = r#"exports.onExecutePostLogin = async (event, api) => {
        api.accessToken.setCustomClaim('https://x.example/protocol', event.transaction.protocol);
        api.accessToken.setCustomClaim('https://x.example/ip', event.request.ip);
        api.accessToken.setCustomClaim('https://x.example/saw_password', JSON.stringify(event.request.body).includes('correct horse'));
        api.accessToken.removeScope('write:measurements');
        api.accessToken.addScope('read:extra');
    };"#;
    w.deploy_and_bind("Trim scopes", "post-login", code).await;
    let store = w.m.server.store.as_ref();
    // Alice may write too, so the Action is what removes it.
    store
        .add_user_permissions(
            &w.s.alice.user_id,
            &[gatehouse_core::model::Permission {
                resource_server_identifier: API.into(),
                permission_name: "write:measurements".into(),
            }],
        )
        .await
        .unwrap();
    let reply = w
        .password(
            "alice@example.com",
            "openid read:measurements write:measurements offline_access",
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let access = claims(reply.body["access_token"].as_str().unwrap());
    assert_eq!(
        access["https://x.example/protocol"],
        "oauth2-resource-owner"
    );
    assert_eq!(access["https://x.example/ip"], "127.0.0.1");
    assert_eq!(access["https://x.example/saw_password"], false);
    let scope = reply.body["scope"].as_str().unwrap();
    assert!(!scope.contains("write:measurements"), "{scope}");
    assert!(scope.contains("read:extra"), "{scope}");
    assert_eq!(access["scope"], reply.body["scope"]);
    let event = w.event_of(&reply).await;
    assert!(
        notes(&event).contains("scope write:measurements removed by the Action 'Trim scopes'"),
        "{}",
        notes(&event)
    );

    let refresh = reply.body["refresh_token"]
        .as_str()
        .expect("a refresh token");
    let refreshed = w
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", &w.s.web_id),
            ("client_secret", &w.s.web_secret),
            ("refresh_token", refresh),
        ])
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let access = claims(refreshed.body["access_token"].as_str().unwrap());
    assert_eq!(access["https://x.example/protocol"], "oauth2-refresh-token");
}

#[tokio::test]
async fn restricted_and_auth0_claims_are_refused_and_noted() {
    let w = start().await;
    let code = r#"exports.onExecutePostLogin = async (event, api) => {
        api.accessToken.setCustomClaim('sub', 'someone-else');
        api.accessToken.setCustomClaim('permissions', ['admin:everything']);
        api.accessToken.setCustomClaim('https://tenant.auth0.com/admin', true);
        api.idToken.setCustomClaim('email', 'spoofed@example.com');
        api.accessToken.setCustomClaim('plan', 'pro');
    };"#;
    w.deploy_and_bind("Overreach", "post-login", code).await;
    let reply = w
        .password("alice@example.com", "openid email read:measurements")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let access = claims(reply.body["access_token"].as_str().unwrap());
    let id = claims(reply.body["id_token"].as_str().unwrap());
    assert_eq!(access["sub"], w.s.alice.user_id.as_str());
    assert_eq!(access["permissions"], json!(["read:measurements"]));
    assert!(access.get("https://tenant.auth0.com/admin").is_none());
    assert_eq!(id["email"], "alice@example.com");
    // Non-namespaced custom claims have been allowed since 2022.
    assert_eq!(access["plan"], "pro");
    let noted = notes(&w.event_of(&reply).await);
    for refused in [
        "claim sub refused",
        "claim permissions refused",
        "claim https://tenant.auth0.com/admin refused",
    ] {
        assert!(noted.contains(refused), "{refused} not in {noted}");
    }
}

/// Each broken Action fails only the requests it runs for, with a clean
/// `access_denied` naming the Action, while another client's exchanges keep
/// succeeding at the same time.
#[tokio::test]
async fn every_limit_fails_cleanly_while_other_clients_are_served() {
    let w = start().await;
    let refused = w
        .m
        .post(
            "/actions/actions",
            json!({
                "name": "Requires fs at deploy",
                "supported_triggers": [{ "id": "credentials-exchange", "version": "v2" }],
                "code": "const fs = require('fs');\nexports.onExecuteCredentialsExchange = async () => {};",
            }),
        )
        .await;
    let id = refused.body["id"].as_str().expect("id");
    let deploy =
        w.m.post(&format!("/actions/actions/{id}/deploy"), json!({}))
            .await;
    assert_eq!(deploy.status, 400, "{}", deploy.text);
    assert!(deploy.text.contains("requires 'fs'"), "{}", deploy.text);

    let w = start().await;
    let other_secret = w.another_m2m("steady-client").await;
    let cases = [
        ("Endless loop", "while (true) {}", "ran longer than"),
        (
            "Huge array",
            "const a = []; for (;;) a.push(new Array(100000).fill(7));",
            "out of memory",
        ),
        (
            "Deep recursion",
            "const f = (n) => f(n + 1) + 1; f(0);",
            "call stack",
        ),
        // Deploy refuses `require('fs')`; one it cannot see still fails when run.
        (
            "Requires fs",
            "const load = require; load('fs');",
            "Cannot find module 'fs'",
        ),
        ("Exits", "process.exit(1);", "process.exit()"),
        (
            "Throws",
            "throw new Error('the vault is closed');",
            "the vault is closed",
        ),
    ];
    for (name, body, expected) in cases {
        let code = format!(
            "exports.onExecuteCredentialsExchange = async (event, api) => {{\n  if (event.client.client_id !== 'm2m-client') return;\n  {body}\n}};"
        );
        let id = w.deploy_and_bind(name, "credentials-exchange", &code).await;
        let (broken, steady) = tokio::join!(w.m2m(&w.s.m2m_id, &w.s.m2m_secret), async {
            let mut replies = Vec::new();
            for _ in 0..3 {
                replies.push(w.m2m("steady-client", &other_secret).await);
            }
            replies
        });
        assert_eq!(broken.status, 403, "{name}: {}", broken.text);
        assert_eq!(broken.body["error"], "access_denied", "{name}");
        let description = broken.body["error_description"].as_str().unwrap();
        assert!(
            description.contains(&format!("The Action '{name}'")),
            "{name}: {description}"
        );
        assert!(description.contains(expected), "{name}: {description}");
        for reply in steady {
            assert_eq!(reply.status, 200, "{name}: {}", reply.text);
        }
        // The failure is logged with the Action's name, and so is the execution.
        let failures =
            w.m.get("/logs?q=type:actions_execution_failed&per_page=100")
                .await;
        let named = failures
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["details"]["action_name"] == name);
        let event = named.unwrap_or_else(|| panic!("{name}: {}", failures.text));
        assert!(
            event["description"].as_str().unwrap().contains(expected),
            "{event}"
        );
        let execution_id = event["details"]["execution_id"].as_str().unwrap();
        let execution =
            w.m.get(&format!("/actions/executions/{execution_id}"))
                .await;
        assert_eq!(execution.status, 200, "{}", execution.text);
        assert_eq!(execution.body["trigger_id"], "credentials-exchange");
        assert_eq!(execution.body["results"][0]["action_name"], name);
        let unbind =
            w.m.call(
                reqwest::Method::DELETE,
                &format!("/actions/actions/{id}?force=true"),
                None,
            )
            .await;
        assert!(unbind.status.is_success(), "{}", unbind.text);
    }
}

#[tokio::test]
async fn unsupported_api_methods_fail_the_login_naming_them() {
    let w = start().await;
    let code = r#"exports.onExecutePostLogin = async (event, api) => {
        api.redirect.sendUserTo('https://example.com/survey');
    };"#;
    w.deploy_and_bind("Survey", "post-login", code).await;
    let reply = w.password("alice@example.com", "openid").await;
    assert_eq!(reply.status, 403, "{}", reply.text);
    let description = reply.body["error_description"].as_str().unwrap();
    assert!(
        description.contains("Survey") && description.contains("api.redirect.sendUserTo"),
        "{description}"
    );
}

#[tokio::test]
async fn pre_user_registration_sets_metadata_or_denies_on_the_management_api() {
    let w = start().await;
    let code = r#"exports.onExecutePreUserRegistration = async (event, api) => {
        if (event.user.email.endsWith('@blocked.example')) {
            api.access.deny('blocked domain', 'Sign-ups from this domain are closed.');
            return;
        }
        api.user.setAppMetadata('plan', 'trial');
        api.user.setUserMetadata('source', 'action');
    };"#;
    w.deploy_and_bind("Screen signups", "pre-user-registration", code)
        .await;
    let created = w
        .m
        .post(
            "/users",
            json!({ "email": "carol@example.com", "password": PASSWORD, "connection": "Username-Password-Authentication" }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["app_metadata"]["plan"], "trial");
    assert_eq!(created.body["user_metadata"]["source"], "action");
    let refused = w
        .m
        .post(
            "/users",
            json!({ "email": "dave@blocked.example", "password": PASSWORD, "connection": "Username-Password-Authentication" }),
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("blocked domain"),
        "{}",
        refused.text
    );
    let search =
        w.m.get("/users-by-email?email=dave%40blocked.example")
            .await;
    assert_eq!(search.body, json!([]));
}

#[tokio::test]
async fn post_login_metadata_is_persisted_and_secrets_stay_out_of_logs() {
    let w = start().await;
    let code = r#"exports.onExecutePostLogin = async (event, api) => {
        console.log('using', event.secrets.API_KEY);
        api.user.setAppMetadata('last_flow', event.transaction.protocol);
        api.accessToken.setCustomClaim('https://x.example/key_length', event.secrets.API_KEY.length);
    };"#;
    w.deploy_and_bind("Remember flow", "post-login", code).await;
    let reply = w.password("alice@example.com", "openid").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let user = w.m.get(&format!("/users/{}", w.s.alice.user_id)).await;
    assert_eq!(
        user.body["app_metadata"]["last_flow"],
        "oauth2-resource-owner"
    );
    let logs = w.m.get("/logs?per_page=100").await;
    assert!(
        !logs.text.contains("k-secret-1234567890"),
        "a secret reached the logs"
    );
}

/// An Action's denial reason is the Action author's text (and may quote user
/// input): in a redirect it stays one `error_description`, in form_post it is
/// escaped HTML, and a secret in it is hidden.
#[tokio::test]
async fn a_hostile_denial_reason_stays_inside_error_description() {
    let w = start().await;
    let code = r#"exports.onExecutePostLogin = async (event, api) => {
        api.access.deny('no&state=forged&code=forged\r\nSet-Cookie: x=1 "><script>alert(1)</script> ' + event.secrets.API_KEY);
    };"#;
    w.deploy_and_bind("Hostile", "post-login", code).await;
    let back = w.login("alice@example.com").await;
    let p = params_of(&back, '?');
    assert_eq!(p["state"], "st", "{back}");
    assert!(!p.contains_key("code"), "{back}");
    assert!(!back.contains('\n') && !back.contains('\r'), "{back}");
    let reason = &p["error_description"];
    assert!(
        reason.starts_with("no&state=forged&code=forged"),
        "{reason}"
    );
    assert!(!reason.contains("k-secret-1234567890"), "{reason}");

    let denied = w.password("alice@example.com", "openid").await;
    assert_eq!(denied.status, 403, "{}", denied.text);
    assert!(
        !denied.text.contains("k-secret-1234567890"),
        "{}",
        denied.text
    );
    let logs = w.m.get("/logs?per_page=100").await;
    assert!(
        !logs.text.contains("k-secret-1234567890"),
        "a secret reached the logs"
    );

    let browser = w.m.server.browser();
    let query = encode(&[
        ("client_id", w.s.web_id.as_str()),
        ("redirect_uri", WEB_CALLBACK),
        ("response_type", "code"),
        ("response_mode", "form_post"),
        ("scope", "openid"),
        ("state", "st"),
    ]);
    let url = w.m.server.url(&format!("/authorize?{query}"));
    let to_page = location(&get(&browser, &url).await);
    let page = get(&browser, &w.m.server.url(&to_page)).await;
    let csrf = csrf_field(&page.text().await.unwrap());
    let resp = post(
        &browser,
        &w.m.server.url("/u/login"),
        &[
            ("csrf", &csrf),
            ("authorize", &query),
            ("email", "alice@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(!html.contains("k-secret-1234567890"), "{html}");
}

/// What `event.request` shows never holds a credential: not on /authorize,
/// not in a token request's body, not in the signup form.
#[tokio::test]
async fn event_request_never_holds_credentials() {
    let w = start().await;
    let shows = r#"exports.onExecutePostLogin = async (event, api) => {
        api.access.deny(JSON.stringify(event.request));
    };"#;
    w.deploy_and_bind("Show request", "post-login", shows).await;
    let denied = w.password("alice@example.com", "openid").await;
    let seen = denied.body["error_description"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(seen.contains("\"username\""), "{seen}");
    for secret in [PASSWORD, w.s.web_secret.as_str()] {
        assert!(!seen.contains(secret), "{seen}");
    }

    let m2m = r#"exports.onExecuteCredentialsExchange = async (event, api) => {
        api.access.deny('invalid_request', JSON.stringify(event.request));
    };"#;
    w.deploy_and_bind("Show m2m request", "credentials-exchange", m2m)
        .await;
    let denied = w.m2m(&w.s.m2m_id, &w.s.m2m_secret).await;
    let seen = denied.body["error_description"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(seen.contains("client_credentials"), "{seen}");
    assert!(!seen.contains(&w.s.m2m_secret), "{seen}");

    let signup = r#"exports.onExecutePreUserRegistration = async (event, api) => {
        api.access.deny('shown', 'BODY' + JSON.stringify(event.request.body) + 'END');
    };"#;
    w.deploy_and_bind("Show signup", "pre-user-registration", signup)
        .await;
    let browser = w.m.server.browser();
    let query = encode(&[
        ("client_id", w.s.web_id.as_str()),
        ("redirect_uri", WEB_CALLBACK),
        ("response_type", "code"),
        ("scope", "openid"),
        ("state", "st"),
    ]);
    let page = get(&browser, &w.m.server.url(&format!("/u/signup?{query}"))).await;
    let csrf = csrf_field(&page.text().await.unwrap());
    let resp = post(
        &browser,
        &w.m.server.url("/u/signup"),
        &[
            ("csrf", &csrf),
            ("authorize", &query),
            ("email", "new@example.com"),
            ("password", "a long enough password"),
        ],
    )
    .await;
    let html = resp.text().await.unwrap();
    let shown = &html[html.find("BODY").expect("the body is shown")..html.find("END").unwrap()];
    assert!(shown.contains("new@example.com"), "{shown}");
    assert!(!shown.contains("a long enough password"), "{shown}");
    assert!(
        !shown.contains(&csrf),
        "the CSRF token reached the Action: {shown}"
    );
}

/// The dashboard is not a tenant application: a post-login Action that denies
/// everyone (or breaks) does not lock the administrators out.
#[tokio::test]
async fn a_denying_post_login_action_does_not_lock_the_dashboard() {
    let w = start().await;
    let deny_all =
        "exports.onExecutePostLogin = async (event, api) => { api.access.deny('locked'); };";
    let throws = "exports.onExecutePostLogin = async () => { throw new Error('broken'); };";
    let deny = w.deploy("Deny everyone", "post-login", deny_all).await;
    let broken = w.deploy("Broken", "post-login", throws).await;
    w.bind("post-login", &[&deny, &broken]).await;
    let back = w.login("alice@example.com").await;
    assert_eq!(params_of(&back, '?')["error_description"], "locked");

    let browser = w.m.server.browser();
    let creds = &w.m.creds;
    let landed = crate::admin::sign_in(
        &w.m.server,
        &browser,
        &creds.admin_email,
        &creds.admin_password,
    )
    .await;
    assert_eq!(landed.status().as_u16(), 303);
    assert_eq!(location(&landed), "/admin");
}

/// A deeply nested claim value (JSON allows it, the engine's record reader
/// stops at 128 levels) must not break the code exchange that carries it.
#[tokio::test]
async fn a_deeply_nested_claim_value_does_not_break_the_code_exchange() {
    let w = start().await;
    let code = r#"exports.onExecutePostLogin = async (event, api) => {
        let v = 1;
        for (let i = 0; i < 120; i++) v = [v];
        api.accessToken.setCustomClaim('https://x.example/deep', v);
        api.idToken.setCustomClaim('https://x.example/deep', v);
    };"#;
    w.deploy_and_bind("Deep", "post-login", code).await;
    let back = w.login("alice@example.com").await;
    assert!(params_of(&back, '?').contains_key("code"), "{back}");
    let reply = w.exchange(&back).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let access = claims(reply.body["access_token"].as_str().unwrap());
    assert!(access["https://x.example/deep"].is_array());
}

/// Two PATCHes of one flow at once: one flow wins whole, never a mix of both.
#[tokio::test]
async fn racing_binding_patches_leave_one_whole_flow() {
    let w = start().await;
    let noop = "exports.onExecutePostLogin = async () => {};";
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(w.deploy(&format!("A{n}"), "post-login", noop).await);
    }
    let body = |set: &[String]| {
        let bindings: Vec<Value> = set
            .iter()
            .map(|id| json!({ "ref": { "type": "action_id", "value": id } }))
            .collect();
        json!({ "bindings": bindings })
    };
    let (first, second) = (body(&ids[..3]), body(&ids[3..]));
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            w.m.patch("/actions/triggers/post-login/bindings", first.clone()),
            w.m.patch("/actions/triggers/post-login/bindings", second.clone()),
        );
        for reply in [&a, &b] {
            assert!(
                reply.status == 200 || reply.status == 409,
                "{} {}",
                reply.status,
                reply.text
            );
        }
        let flow = w.m.get("/actions/triggers/post-login/bindings").await;
        let bound: Vec<String> = flow.body["bindings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["action"]["id"].as_str().unwrap().to_string())
            .collect();
        assert!(bound == ids[..3] || bound == ids[3..], "{bound:?}");
    }
}

/// Deploy refuses a syntax error, so one reaches a flow only from outside the
/// API (an import, an older version): it still fails only its own requests.
#[tokio::test]
async fn a_syntax_error_that_reached_the_flow_fails_cleanly() {
    let w = start().await;
    let other_secret = w.another_m2m("steady-client").await;
    let code = "exports.onExecuteCredentialsExchange = async (event, api) => {\n  if (event.client.client_id !== 'm2m-client') return;\n  let x = ;\n};";
    let store = w.m.server.store.as_ref();
    let now = w.m.server.state.now();
    let trigger = gatehouse_store::TriggerRef {
        id: "credentials-exchange".into(),
        version: "v2".into(),
    };
    store
        .create_action(&gatehouse_store::StoredAction {
            id: "act_imported".into(),
            name: "Imported".into(),
            code: code.into(),
            runtime: "node22".into(),
            supported_triggers: vec![trigger],
            dependencies: json!([]),
            secrets: Vec::new(),
            deployed: Some(gatehouse_store::DeployedAction {
                number: 1,
                code: code.into(),
                secrets: Vec::new(),
                deployed_at: now,
            }),
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    store
        .replace_trigger_bindings(
            "credentials-exchange",
            &[gatehouse_store::ActionBinding {
                id: "bnd_imported".into(),
                trigger_id: "credentials-exchange".into(),
                action_id: "act_imported".into(),
                display_name: "Imported".into(),
                created_at: now,
                updated_at: now,
            }],
        )
        .await
        .unwrap();
    w.m.server.state.action_flows().forget();
    let (broken, login) = tokio::join!(
        w.m2m(&w.s.m2m_id, &w.s.m2m_secret),
        w.password("alice@example.com", "openid")
    );
    assert_eq!(broken.status, 403, "{}", broken.text);
    let description = broken.body["error_description"].as_str().unwrap();
    assert!(
        description.contains("The Action 'Imported'") && description.contains("line 3"),
        "{description}"
    );
    // Logins (another trigger, no Action) are served meanwhile.
    assert_eq!(login.status, 200, "{}", login.text);
    // The code never compiles, so no condition in it lets any client through.
    let steady = w.m2m("steady-client", &other_secret).await;
    assert_eq!(steady.status, 403, "{}", steady.text);
}

/// The simulation runs the bound Actions without writing: their claims and
/// scope changes are in the would-be token and its trace, a denial refuses
/// it with the Action's reason, and no metadata, execution or event is written.
#[tokio::test]
async fn the_simulation_shows_what_the_actions_would_do_and_writes_nothing() {
    let w = start().await;
    let code = r#"exports.onExecutePostLogin = async (event, api) => {
        api.accessToken.setCustomClaim('https://measurements.example/roles', event.authorization.roles);
        api.user.setAppMetadata('simulated', true);
        if (event.user.email === 'bob@example.com') api.access.deny('Bob may not.');
    };"#;
    w.deploy_and_bind("Add roles", "post-login", code).await;
    let count_events = || async {
        w.m.get("/logs?per_page=100&include_totals=true").await.body["total"]
            .as_i64()
            .expect("a total")
    };
    let events_before = count_events().await;
    let simulate = |user: &str| json!({ "client_id": w.s.web_id, "user": user, "audience": API, "scope": "openid read:measurements" });
    let sim =
        w.m.post("/x-gatehouse/simulate", simulate("alice@example.com"))
            .await;
    assert_eq!(sim.status, 200, "{}", sim.text);
    assert_eq!(sim.body["outcome"], "issued", "{}", sim.text);
    assert_eq!(
        sim.body["access_token"]["claims"]["https://measurements.example/roles"],
        json!(["reader"])
    );
    assert!(
        sim.body["trace"]["actions"]
            .to_string()
            .contains("set by the Action 'Add roles'"),
        "{}",
        sim.text
    );
    let refused =
        w.m.post("/x-gatehouse/simulate", simulate("bob@example.com"))
            .await;
    assert_eq!(refused.body["outcome"], "refused", "{}", refused.text);
    assert_eq!(refused.body["error"]["error_description"], "Bob may not.");
    assert!(
        refused
            .text
            .contains("denied by the Action 'Add roles': Bob may not."),
        "{}",
        refused.text
    );

    let alice = w.m.get(&format!("/users/{}", w.s.alice.user_id)).await;
    assert!(
        alice.body["app_metadata"].get("simulated").is_none(),
        "{}",
        alice.text
    );
    assert_eq!(count_events().await, events_before);
}
