//! No end user reaches the Management API (issue 11, critical): every user
//! flow asking for `<issuer>api/v2/` — code, implicit, password, device code
//! and refresh — for bob (no permission), the bootstrap admin (role `Admin`)
//! and a stranger who just signed up. A user gets Auth0's end-user scopes,
//! usable only on their own record; any other management scope only through
//! RBAC. Then the whole route table: no route accepts a token without one of
//! its scopes, and end-user scopes open only the user's own record.

use super::{assert_mgmt_error, Mgmt};
use crate::authorize::{encode, get, location, params_of, WEB_CALLBACK};
use crate::fixtures::{seed, Seeded, PASSWORD};
use crate::support::Reply;
use gatehouse_server::routes::management::{routes, Method as Verb};
use reqwest::{Client, Method};
use serde_json::{json, Value};

/// What every flow asks for: a management scope, the one the admin dashboard
/// needs to create apps, and two end-user scopes.
const ASKED: &str =
    "openid read:users create:clients read:current_user update:current_user_metadata";
/// What a user without management permissions gets of [`ASKED`].
const END_USER_PART: &str = "openid read:current_user update:current_user_metadata";

struct World {
    m: Mgmt,
    s: Seeded,
    audience: String,
}

async fn start() -> World {
    let m = Mgmt::start().await;
    let s = seed(m.server.store.as_ref()).await;
    let audience = m.creds.management_audience.clone();
    // Refresh tokens for the management audience, so the refresh flow is tested
    // too (Auth0 allows offline access on its Management API for SPAs).
    let store = m.server.store.as_ref();
    let mut api = store
        .resource_server_by_identifier(&audience)
        .await
        .unwrap()
        .expect("system API");
    api.allow_offline_access = true;
    store.update_resource_server(&api).await.unwrap();
    World { m, s, audience }
}

/// The payload of a JWT, unverified (the server verifies it on every call).
pub(crate) fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

impl World {
    async fn token_endpoint(&self, pairs: &[(&str, &str)]) -> Reply {
        self.m.server.post_form("/oauth/token", pairs).await
    }

    async fn password_grant(&self, email: &str, password: &str, scope: &str) -> Value {
        let r = self
            .token_endpoint(&[
                ("grant_type", "password"),
                ("client_id", &self.s.web_id),
                ("client_secret", &self.s.web_secret),
                ("username", email),
                ("password", password),
                ("audience", &self.audience),
                ("scope", scope),
            ])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// Runs `/authorize` for the web app in a fresh browser, filling in the
    /// page it sends the browser to (`/u/login`, or `/u/signup` with
    /// `screen_hint=signup`); returns the redirect back to the app.
    async fn authorize(&self, email: &str, password: &str, extra: &[(&str, &str)]) -> String {
        let browser = self.m.server.browser();
        let mut pairs = vec![
            ("client_id", self.s.web_id.as_str()),
            ("redirect_uri", WEB_CALLBACK),
            ("audience", &self.audience),
            ("state", "st"),
            ("nonce", "n"),
        ];
        pairs.extend_from_slice(extra);
        let query = encode(&pairs);
        let url = self.m.server.url(&format!("/authorize?{query}"));
        let to_page = location(&get(&browser, &url).await);
        let page_path = to_page.split('?').next().unwrap_or_default().to_string();
        assert!(
            page_path == "/u/login" || page_path == "/u/signup",
            "{to_page}"
        );
        let page = get(&browser, &self.m.server.url(&to_page)).await;
        let csrf = csrf_field(&page.text().await.unwrap());
        let resp = post(
            &browser,
            &self.m.server.url(&page_path),
            &[
                ("csrf", &csrf),
                ("authorize", &query),
                ("email", email),
                ("password", password),
            ],
        )
        .await;
        let back = location(&resp);
        assert!(
            back.starts_with(WEB_CALLBACK),
            "no consent page or error expected, got {} {back}",
            resp.status()
        );
        back
    }

    /// Redeems the code in `back` (a redirect to the web app): the token response.
    async fn exchange(&self, back: &str) -> Value {
        let code = params_of(back, '?')["code"].clone();
        let r = self
            .token_endpoint(&[
                ("grant_type", "authorization_code"),
                ("client_id", &self.s.web_id),
                ("client_secret", &self.s.web_secret),
                ("code", &code),
                ("redirect_uri", WEB_CALLBACK),
            ])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// The code flow with `offline_access`: the token response.
    async fn code_flow(&self, email: &str, password: &str) -> Value {
        let scope = format!("{ASKED} offline_access");
        let back = self
            .authorize(
                email,
                password,
                &[("response_type", "code"), ("scope", &scope)],
            )
            .await;
        self.exchange(&back).await
    }

    /// The implicit flow: the access token from the fragment.
    async fn implicit_flow(&self, email: &str, password: &str) -> String {
        let back = self
            .authorize(
                email,
                password,
                &[("response_type", "token"), ("scope", ASKED)],
            )
            .await;
        params_of(&back, '#')["access_token"].clone()
    }

    /// The refresh grant on the refresh token of a code flow.
    async fn refresh(&self, refresh_token: &str) -> Reply {
        self.token_endpoint(&[
            ("grant_type", "refresh_token"),
            ("client_id", &self.s.web_id),
            ("client_secret", &self.s.web_secret),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// The device flow for the SPA, approved on `/activate` by `email`.
    async fn device_flow(&self, email: &str, password: &str) -> Value {
        let started = self
            .m
            .server
            .post_form(
                "/oauth/device/code",
                &[
                    ("client_id", &self.s.spa_id),
                    ("scope", ASKED),
                    ("audience", &self.audience),
                ],
            )
            .await;
        assert_eq!(started.status, 200, "{}", started.text);
        let user_code = started.body["user_code"].as_str().unwrap().to_string();
        let browser = self.m.server.browser();
        let server = &self.m.server;
        let activate = format!("/activate?{}", encode(&[("user_code", &user_code)]));
        let page = get(&browser, &server.url(&activate)).await;
        let csrf = csrf_field(&page.text().await.unwrap());
        let resp = post(
            &browser,
            &server.url("/u/login"),
            &[
                ("csrf", &csrf),
                ("authorize", ""),
                ("user_code", &user_code),
                ("email", email),
                ("password", password),
            ],
        )
        .await;
        let confirm = get(&browser, &server.url(&location(&resp))).await;
        let csrf = csrf_field(&confirm.text().await.unwrap());
        let approved = post(
            &browser,
            &server.url("/activate"),
            &[
                ("csrf", &csrf),
                ("user_code", &user_code),
                ("decision", "approve"),
            ],
        )
        .await;
        assert_eq!(approved.status().as_u16(), 200);
        let device_code = started.body["device_code"].as_str().unwrap();
        let r = self
            .token_endpoint(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code),
                ("client_id", &self.s.spa_id),
            ])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    }

    /// Signs a stranger up on `/u/signup` (from a code request for the
    /// management audience, as the attack did): the code flow's token response.
    async fn sign_up(&self, email: &str, password: &str) -> Value {
        let extra = [
            ("response_type", "code"),
            ("scope", ASKED),
            ("screen_hint", "signup"),
        ];
        let back = self.authorize(email, password, &extra).await;
        self.exchange(&back).await
    }

    /// Asserts what `token` (of `user_id`) can do on the Management API.
    async fn assert_management_access(&self, token: &str, user_id: &str, admin: bool, flow: &str) {
        let m = &self.m;
        let call = |method: Method, path: String, body: Option<Value>| async move {
            m.call_as(Some(token), method, &path, body).await
        };
        let own = format!("/users/{}", enc(user_id));
        let other = format!("/users/{}", enc(&self.s.alice.user_id));
        let list = call(Method::GET, "/users".into(), None).await;
        let create = call(
            Method::POST,
            "/clients".into(),
            Some(json!({"name": format!("made by {flow}")})),
        )
        .await;
        let read_own = call(Method::GET, own.clone(), None).await;
        let read_other = call(Method::GET, other, None).await;
        let metadata = call(
            Method::PATCH,
            own.clone(),
            Some(json!({"user_metadata": {"theme": flow}})),
        )
        .await;
        let app_metadata = call(
            Method::PATCH,
            own,
            Some(json!({"app_metadata": {"plan": "enterprise"}})),
        )
        .await;
        assert_eq!(read_own.status, 200, "{flow}: {}", read_own.text);
        assert_eq!(read_own.body["user_id"], user_id, "{flow}");
        assert_eq!(metadata.status, 200, "{flow}: {}", metadata.text);
        assert_eq!(metadata.body["user_metadata"]["theme"], flow, "{flow}");
        if admin {
            assert_eq!(list.status, 200, "{flow}: {}", list.text);
            assert_eq!(create.status, 201, "{flow}: {}", create.text);
            assert_eq!(read_other.status, 200, "{flow}: {}", read_other.text);
        } else {
            for reply in [&list, &create, &read_other, &app_metadata] {
                assert_mgmt_error(reply, 403, "insufficient_scope");
            }
        }
    }
}

fn enc(s: &str) -> String {
    encode(&[("", s)]).trim_start_matches('=').to_string()
}

/// The value of the hidden `csrf` field of a page.
pub(crate) fn csrf_field(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    let end = html[start..].find('"').expect("end of the csrf value") + start;
    html[start..end].to_string()
}

pub(crate) async fn post(browser: &Client, url: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
    browser
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(pairs))
        .send()
        .await
        .expect("request")
}

/// Every user flow for one user: the scopes in each token and what the
/// token opens. `scope` is what the user may get of [`ASKED`].
async fn every_flow(w: &World, email: &str, password: &str, user_id: &str, admin: bool) {
    let scope = if admin { ASKED } else { END_USER_PART };
    let password_grant = w.password_grant(email, password, ASKED).await;
    let code = w.code_flow(email, password).await;
    let implicit = w.implicit_flow(email, password).await;
    let device = w.device_flow(email, password).await;
    let refresh_token = code["refresh_token"].as_str().expect("a refresh token");
    let refreshed = w.refresh(refresh_token).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let with_refresh = format!("{scope} offline_access");
    for (flow, token, expected) in [
        ("password", password_grant["access_token"].clone(), scope),
        ("code", code["access_token"].clone(), with_refresh.as_str()),
        ("implicit", Value::from(implicit), scope),
        ("device", device["access_token"].clone(), scope),
        (
            "refresh",
            refreshed.body["access_token"].clone(),
            with_refresh.as_str(),
        ),
    ] {
        let token = token.as_str().expect("an access token");
        assert_eq!(claims(token)["scope"], expected, "{email}, {flow}");
        assert_eq!(claims(token)["sub"], user_id, "{email}, {flow}");
        w.assert_management_access(token, user_id, admin, flow)
            .await;
    }
}

#[tokio::test]
async fn a_user_without_permissions_gets_only_end_user_scopes_in_every_flow() {
    let w = start().await;
    let bob = w.s.bob.user_id.clone();
    every_flow(&w, "bob@example.com", PASSWORD, &bob, false).await;
    // The password grant with no scope (Auth0: every scope of the API) implies
    // only the end-user scopes: this is how bob became tenant admin.
    let implied = w.password_grant("bob@example.com", PASSWORD, "").await;
    let token = implied["access_token"].as_str().unwrap();
    let granted = claims(token)["scope"].as_str().unwrap().to_string();
    let mut granted: Vec<&str> = granted.split(' ').collect();
    granted.sort_unstable();
    let mut end_user = gatehouse_core::grant::END_USER_SCOPES.to_vec();
    end_user.sort_unstable();
    assert_eq!(granted, end_user);
    w.assert_management_access(token, &bob, false, "password-implied")
        .await;
    w.m.server.stop().await;
}

#[tokio::test]
async fn the_bootstrap_admin_gets_management_scopes_through_the_admin_role() {
    let w = start().await;
    let admin =
        w.m.server
            .store
            .user_by_email(
                gatehouse_core::model::DEFAULT_CONNECTION,
                &w.m.creds.admin_email,
            )
            .await
            .unwrap()
            .expect("the bootstrap admin");
    let roles =
        w.m.get(&format!("/users/{}/roles", enc(&admin.user.user_id)))
            .await;
    assert_eq!(roles.body[0]["name"], "Admin", "{}", roles.text);
    let (email, password) = (
        w.m.creds.admin_email.clone(),
        w.m.creds.admin_password.clone(),
    );
    every_flow(&w, &email, &password, &admin.user.user_id, true).await;

    // RBAC is read again on refresh: without the role, the management scopes go.
    let code = w.code_flow(&email, &password).await;
    let role_id = roles.body[0]["id"].as_str().unwrap();
    let removed =
        w.m.call(
            Method::DELETE,
            &format!("/users/{}/roles", enc(&admin.user.user_id)),
            Some(json!({"roles": [role_id]})),
        )
        .await;
    assert!(removed.status.is_success(), "{}", removed.text);
    let refreshed = w.refresh(code["refresh_token"].as_str().unwrap()).await;
    let token = refreshed.body["access_token"].as_str().unwrap();
    assert_eq!(
        claims(token)["scope"],
        format!("{END_USER_PART} offline_access")
    );
    w.assert_management_access(token, &admin.user.user_id, false, "refresh-after-removal")
        .await;
    w.m.server.stop().await;
}

#[tokio::test]
async fn a_stranger_who_signs_up_gets_only_end_user_scopes_in_every_flow() {
    let w = start().await;
    let (email, password) = ("mallory@example.com", "mallory's long password");
    let signed_up = w.sign_up(email, password).await;
    let token = signed_up["access_token"].as_str().unwrap();
    assert_eq!(claims(token)["scope"], END_USER_PART);
    let user_id = claims(token)["sub"].as_str().unwrap().to_string();
    w.assert_management_access(token, &user_id, false, "signup")
        .await;
    every_flow(&w, email, password, &user_id, false).await;
    w.m.server.stop().await;
}

/// A path of the route table with every `{param}` filled with `value`.
fn fill(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        out.push_str(&enc(value));
        let close = rest[open..].find('}').expect("closing brace") + open;
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

fn http_method(verb: Verb) -> Method {
    match verb {
        Verb::Get => Method::GET,
        Verb::Post => Method::POST,
        Verb::Put => Method::PUT,
        Verb::Patch => Method::PATCH,
        Verb::Delete => Method::DELETE,
    }
}

#[tokio::test]
async fn no_route_accepts_a_token_without_its_scope() {
    let w = start().await;
    let all = gatehouse_server::routes::management::scopes::names();
    let bob = w.s.bob.user_id.clone();
    // bob's token with every end-user scope.
    let end_user = gatehouse_core::grant::END_USER_SCOPES.join(" ");
    let bob_token = w
        .password_grant("bob@example.com", PASSWORD, &end_user)
        .await;
    let bob_token = bob_token["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&bob_token)["scope"], end_user);
    for route in routes() {
        let e = &route.endpoint;
        let others: Vec<&str> = all
            .iter()
            .map(String::as_str)
            .filter(|s| !e.scopes.contains(s))
            .collect();
        let token = w.m.token_with(&others).await;
        let method = http_method(e.method);
        let body = e.body.then(|| json!({}));
        let path = fill(e.path, &bob);
        let what = format!("{:?} {}", e.method, e.path);
        let r =
            w.m.call_as(Some(&token), method.clone(), &path, body.clone())
                .await;
        assert_eq!(r.status, 403, "{what} with every other scope: {}", r.text);
        assert_mgmt_error(&r, 403, "insufficient_scope");

        // End-user scopes: only the routes that list them, only on bob's own id.
        let on_other = fill(e.path, &w.s.alice.user_id);
        let r =
            w.m.call_as(Some(&bob_token), method.clone(), &on_other, body.clone())
                .await;
        assert_eq!(r.status, 403, "{what} as bob on alice: {}", r.text);
        if e.self_service.is_empty() {
            let r = w.m.call_as(Some(&bob_token), method, &path, body).await;
            assert_eq!(r.status, 403, "{what} as bob on himself: {}", r.text);
        }
    }
    // A client-credentials token carrying an end-user scope is no user's token.
    let m2m = w.m.token_with(&["read:current_user"]).await;
    let r =
        w.m.call_as(
            Some(&m2m),
            Method::GET,
            &format!("/users/{}", enc(&bob)),
            None,
        )
        .await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    // bob may change his own user_metadata, but not his password or blocked flag.
    for forbidden in [
        json!({"password": "a brand new password"}),
        json!({"blocked": false}),
    ] {
        let r =
            w.m.call_as(
                Some(&bob_token),
                Method::PATCH,
                &format!("/users/{}", enc(&bob)),
                Some(forbidden),
            )
            .await;
        assert_mgmt_error(&r, 403, "insufficient_scope");
    }
    w.m.server.stop().await;
}

/// A third-party app asking for the Management API gets the consent page
/// every time: a remembered consent does not let `prompt=none` skip it.
#[tokio::test]
async fn consent_is_never_skipped_for_a_third_party_app_asking_for_management_scopes() {
    use gatehouse_core::model::{AppType, Client as App, ClientGrant, SubjectType};
    let w = start().await;
    let store = w.m.server.store.as_ref();
    let callback = "https://third-party.example/cb";
    let mut app = App::new("third-party-app", "Third Party", AppType::RegularWeb);
    app.is_first_party = false;
    app.callbacks = vec![callback.into()];
    store
        .create_client(
            &gatehouse_store::StoredClient {
                client: app,
                secret_hash: None,
            },
            0,
        )
        .await
        .unwrap();
    store
        .create_client_grant(
            &ClientGrant {
                id: "cgr_third_party_users".into(),
                client_id: Some("third-party-app".into()),
                default_for: None,
                audience: w.audience.clone(),
                scope: vec!["read:current_user".into()],
                subject_type: SubjectType::User,
                allow_all_scopes: false,
            },
            0,
        )
        .await
        .unwrap();
    let query = |prompt: &str| {
        let mut pairs = vec![
            ("client_id", "third-party-app"),
            ("redirect_uri", callback),
            ("response_type", "code"),
            ("audience", w.audience.as_str()),
            ("scope", "openid read:current_user read:users"),
            ("state", "tp"),
        ];
        if !prompt.is_empty() {
            pairs.push(("prompt", prompt));
        }
        encode(&pairs)
    };
    let server = &w.m.server;
    let browser = server.browser();
    let q = query("");
    let to_login = location(&get(&browser, &server.url(&format!("/authorize?{q}"))).await);
    let page = get(&browser, &server.url(&to_login)).await;
    let csrf = csrf_field(&page.text().await.unwrap());
    let login = [
        ("csrf", csrf.as_str()),
        ("authorize", q.as_str()),
        ("email", "bob@example.com"),
        ("password", PASSWORD),
    ];
    let resp = post(&browser, &server.url("/u/login"), &login).await;
    assert_eq!(location(&resp), format!("/u/consent?{q}"));
    let page = get(&browser, &server.url(&location(&resp))).await;
    let body = page.text().await.unwrap();
    assert!(body.contains("read:current_user"), "{body}");
    assert!(
        !body.contains("read:users"),
        "dropped scopes are not offered"
    );
    let csrf = csrf_field(&body);
    let accept = [
        ("csrf", csrf.as_str()),
        ("authorize", q.as_str()),
        ("decision", "accept"),
    ];
    let resp = post(&browser, &server.url("/u/consent"), &accept).await;
    assert!(location(&resp).starts_with(callback), "{}", location(&resp));
    let silent = query("none");
    let resp = get(&browser, &server.url(&format!("/authorize?{silent}"))).await;
    let back = location(&resp);
    assert!(back.starts_with(callback), "{back}");
    assert_eq!(params_of(&back, '?')["error"], "consent_required");
    let again = get(&browser, &server.url(&format!("/authorize?{q}"))).await;
    assert_eq!(location(&again), format!("/u/consent?{q}"));
    w.m.server.stop().await;
}
