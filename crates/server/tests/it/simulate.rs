//! `simulate` against real issuance, for every case of the grant-decision
//! tables ([`gatehouse_core::grant::decision_cases`]): each case's world is
//! built in a fresh server, the case's own flow runs over HTTP, the
//! simulation runs with the same inputs, and the two must agree on the
//! outcome, the error body, the access-token and ID-token claims, the refresh
//! token, consent and the trace of the log event. Then the Management route
//! `POST /api/v2/x-gatehouse/simulate`: scopes, errors, and that it writes
//! nothing.
//!
//! Realising a case over HTTP:
//! - the core world's Management API `https://tenant.example/api/v2/` becomes
//!   the server's `<issuer>api/v2/` (identifier, audience, grants, default);
//! - permissions and roles are placed on the case's audience;
//! - an HS256 API gets a signing secret (the decision does not model it);
//! - the refresh flow starts from a refresh-token family written to the
//!   store with the case's scope and audience (a code exchange could not
//!   give every case's scope to refresh, e.g. without `offline_access`);
//! - the device flow's approval at `/activate` is the store transition the
//!   page makes;
//! - code and implicit log in through the login page and accept the consent
//!   page when it is shown. `/authorize` logs a trace only for `prompt=none`,
//!   so the implicit flow is run once more silently for its trace; a refusal
//!   at `/authorize` logs no trace, so its trace is not compared (counted);
//! - the code flow sends no `nonce` (the simulation assumes none); the
//!   simulation has no `prompt`, so consent is not compared for the case
//!   that sends `prompt=consent`.

use crate::authorize::{encode, get, location, params_of};
use crate::fixtures::{seed, Seeded, API, OTHER_API};
use crate::management::{assert_mgmt_error, Mgmt};
use crate::support::TestServer;
use base64::Engine;
use gatehouse_core::grant::decision_cases::{self, Case, MGMT};
use gatehouse_core::grant::{AudienceParam, Flow};
use gatehouse_core::model::{
    AppType, Client, Permission, PermissionSource, Role, SigningAlg, TenantSettings,
};
use gatehouse_core::pkce::s256_challenge;
use gatehouse_core::request::DEVICE_CODE;
use gatehouse_core::secret::hash_token;
use gatehouse_server::issue::MAX_ACTIVE_REFRESH_TOKENS;
use gatehouse_server::simulate::{
    simulate, AccessTokenFormat, Outcome, SimulateRequest, Simulation, SIMULATED,
};
use gatehouse_store::{DeviceStatus, RefreshFamily, StoredClient, StoredUser};
use reqwest::Method;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery staple";
const SECRET: &str = "a-client-secret-with-enough-entropy-0123456789";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const REFRESH_TOKEN: &str = "a-refresh-token-written-for-the-case-0123456789";
/// Claims whose values only a real issuance has; their presence is compared.
const ACCESS_TOKEN_VARYING: &[&str] = &["iat", "exp", "jti", "auth_time"];
const ID_TOKEN_VARYING: &[&str] = &[
    "iat",
    "exp",
    "auth_time",
    "at_hash",
    "c_hash",
    "sid",
    "nonce",
];

/// The argon2id hash of [`PASSWORD`], computed once.
async fn password_hash() -> &'static str {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async {
        gatehouse_server::password::hash_password(PASSWORD).expect("hash")
    })
    .await
}

/// A case's inputs as the server knows them.
struct Realised {
    client: Client,
    email: String,
    callback: String,
    audience: Option<AudienceParam>,
    scope: &'static str,
    prompt_consent: bool,
}

fn server_identifier(id: &str, issuer: &str) -> String {
    if id == MGMT {
        format!("{issuer}api/v2/")
    } else {
        id.to_string()
    }
}

fn grant_type_of(flow: Flow) -> &'static str {
    match flow {
        Flow::AuthorizationCode => "authorization_code",
        Flow::Implicit => "implicit",
        Flow::RefreshToken => "refresh_token",
        Flow::Password => "password",
        Flow::DeviceCode => DEVICE_CODE,
        Flow::ClientCredentials => "client_credentials",
    }
}

/// Writes the case's world into the server's store.
async fn build_world(server: &TestServer, case: &Case) -> Realised {
    let store = server.store.as_ref();
    let now = server.state.now();
    let issuer = &server.issuer;
    let w = &case.world;
    let rewrite = |id: &str| server_identifier(id, issuer);

    let tenant = TenantSettings {
        default_audience: w.tenant.default_audience.as_deref().map(rewrite),
        ..w.tenant.clone()
    };
    store.put_tenant_settings(&tenant).await.unwrap();
    for api in &w.apis {
        let mut api = api.clone();
        api.identifier = rewrite(&api.identifier);
        if api.signing_alg == SigningAlg::HS256 && api.signing_secret.is_none() {
            api.signing_secret = Some("an-hs256-signing-secret-of-enough-length-0123".into());
        }
        store.create_resource_server(&api, now).await.unwrap();
    }

    let loopback = w.consent.as_ref().is_some_and(|c| c.loopback);
    let callback = if loopback {
        "http://localhost:4200/callback"
    } else {
        "https://app.example/callback"
    };
    let mut client = w.client.clone();
    client.callbacks = vec![callback.into()];
    let mut needed = vec![grant_type_of(case.flow)];
    if case.flow == Flow::RefreshToken {
        needed.push("authorization_code");
    }
    for g in needed {
        if !client.allows_grant(g) {
            client.grant_types.push(g.into());
        }
    }
    store
        .create_client(
            &StoredClient {
                client: client.clone(),
                secret_hash: Some(hash_token(SECRET)),
            },
            now,
        )
        .await
        .unwrap();

    let user = w.user.clone();
    store
        .create_user(&StoredUser {
            user: user.clone(),
            password_hash: Some(password_hash().await.to_string()),
        })
        .await
        .unwrap();

    let audience = case.audience.clone().map(|a| match a {
        AudienceParam::Audience(v) => AudienceParam::Audience(rewrite(&v)),
        AudienceParam::Resource(v) => AudienceParam::Resource(rewrite(&v)),
    });
    let api_of_case = audience
        .as_ref()
        .map(|a| a.value().to_string())
        .or_else(|| tenant.default_audience.clone());
    if let Some(api) = &api_of_case {
        grant_permissions(server, case, api, &user.user_id).await;
    }
    for g in &w.grants {
        let mut g = g.clone();
        g.audience = rewrite(&g.audience);
        if let Some(other) = g.client_id.as_deref().filter(|id| *id != client.client_id) {
            if store.client(other).await.unwrap().is_none() {
                let other = Client::new(other, "Another application", AppType::NonInteractive);
                let stored = StoredClient {
                    client: other,
                    secret_hash: None,
                };
                store.create_client(&stored, now).await.unwrap();
            }
        }
        store
            .create_client_grant(&g, now)
            .await
            .unwrap_or_else(|e| panic!("case {}: grant {g:?}: {e}", case.name));
    }
    if let Some(consented) = w.consent.as_ref().and_then(|c| c.consented.as_ref()) {
        let key = api_of_case
            .clone()
            .unwrap_or_else(|| format!("{issuer}userinfo"));
        store
            .put_consent(
                &user.user_id,
                &client.client_id,
                &key,
                &consented.to_string(),
                now,
            )
            .await
            .unwrap();
    }
    Realised {
        client,
        email: user.email.clone().unwrap_or_default(),
        callback: callback.into(),
        audience,
        scope: case.scope,
        prompt_consent: w.consent.as_ref().is_some_and(|c| c.prompt),
    }
}

/// The user's permissions (directly or through roles of those names) and
/// the roles that would grant a missing scope, on `api`.
async fn grant_permissions(server: &TestServer, case: &Case, api: &str, user_id: &str) {
    let store = server.store.as_ref();
    let now = server.state.now();
    let perm = |name: &str| Permission {
        resource_server_identifier: api.to_string(),
        permission_name: name.to_string(),
    };
    let ensure_role = |id: String, name: String| async move {
        if store.role(&id).await.unwrap().is_none() {
            let role = Role {
                id: id.clone(),
                name,
                description: String::new(),
            };
            store.create_role(&role, now).await.unwrap();
        }
        id
    };
    for p in &case.world.permissions {
        for source in &p.sources {
            match source {
                PermissionSource::Direct => store
                    .add_user_permissions(user_id, &[perm(&p.permission_name)])
                    .await
                    .unwrap(),
                PermissionSource::Role { role_id, role_name } => {
                    let id = ensure_role(role_id.clone(), role_name.clone()).await;
                    store
                        .add_role_permissions(&id, &[perm(&p.permission_name)])
                        .await
                        .unwrap();
                    store.assign_user_roles(user_id, &[id]).await.unwrap();
                }
            }
        }
    }
    for (scope, roles) in &case.world.roles_granting {
        for name in roles {
            let id = ensure_role(format!("rol_{name}"), name.clone()).await;
            store
                .add_role_permissions(&id, &[perm(scope)])
                .await
                .unwrap();
        }
    }
}

/// What the real request got.
#[derive(Debug, Default)]
struct Real {
    /// `(error, error_description)` when refused.
    error: Option<(String, String)>,
    access_token: Option<String>,
    id_token: Option<String>,
    refresh_token: bool,
    consent_shown: bool,
    /// `details.trace` of the issuance's (or refusal's) log event.
    trace: Option<Value>,
}

impl Real {
    fn from_token_reply(status: u16, body: &Value) -> Self {
        if status == 200 {
            Self {
                access_token: body["access_token"].as_str().map(str::to_string),
                id_token: body["id_token"].as_str().map(str::to_string),
                refresh_token: body.get("refresh_token").is_some(),
                ..Self::default()
            }
        } else {
            Self::refused(body["error"].as_str(), body["error_description"].as_str())
        }
    }

    fn refused(error: Option<&str>, description: Option<&str>) -> Self {
        Self {
            error: Some((
                error.unwrap_or("(none)").to_string(),
                description.unwrap_or("(none)").to_string(),
            )),
            ..Self::default()
        }
    }
}

fn with_audience<'a>(pairs: &mut Vec<(&'a str, &'a str)>, r: &'a Realised) {
    match &r.audience {
        Some(AudienceParam::Audience(a)) => pairs.push(("audience", a)),
        Some(AudienceParam::Resource(a)) => pairs.push(("resource", a)),
        None => {}
    }
    if !r.scope.is_empty() {
        pairs.push(("scope", r.scope));
    }
}

fn with_client<'a>(pairs: &mut Vec<(&'a str, &'a str)>, r: &'a Realised) {
    pairs.push(("client_id", &r.client.client_id));
    if !r.client.is_public() {
        pairs.push(("client_secret", SECRET));
    }
}

async fn post_token(server: &TestServer, pairs: &[(&str, &str)]) -> (u16, Value) {
    let reply = server.post_form("/oauth/token", pairs).await;
    (reply.status.as_u16(), reply.body)
}

/// The newest log event's trace, if the newest event with one is newer than `before`.
async fn newest_trace(server: &TestServer, before: i64) -> Option<Value> {
    let events = server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    let fresh = usize::try_from(
        server
            .store
            .count_log_events(&gatehouse_store::LogFilter::default())
            .await
            .unwrap()
            - before,
    )
    .unwrap();
    events
        .iter()
        .take(fresh)
        .map(|e| e.details["trace"].clone())
        .find(|t| !t.is_null())
}

/// Runs the case's flow over HTTP.
async fn issue_for_real(server: &TestServer, case: &Case, r: &Realised) -> Real {
    let before = server
        .store
        .count_log_events(&gatehouse_store::LogFilter::default())
        .await
        .unwrap();
    let mut real = match case.flow {
        Flow::AuthorizationCode => code_flow(server, r).await,
        Flow::Implicit => implicit_flow(server, r).await,
        Flow::RefreshToken => refresh_flow(server, r).await,
        Flow::Password => password_flow(server, r).await,
        Flow::DeviceCode => device_flow(server, r).await,
        Flow::ClientCredentials => client_credentials_flow(server, r).await,
    };
    if real.trace.is_none() {
        real.trace = newest_trace(server, before).await;
    }
    real
}

async fn client_credentials_flow(server: &TestServer, r: &Realised) -> Real {
    let mut pairs = vec![("grant_type", "client_credentials")];
    with_client(&mut pairs, r);
    with_audience(&mut pairs, r);
    let (status, body) = post_token(server, &pairs).await;
    Real::from_token_reply(status, &body)
}

async fn password_flow(server: &TestServer, r: &Realised) -> Real {
    let mut pairs = vec![
        ("grant_type", "password"),
        ("username", r.email.as_str()),
        ("password", PASSWORD),
    ];
    with_client(&mut pairs, r);
    with_audience(&mut pairs, r);
    let (status, body) = post_token(server, &pairs).await;
    Real::from_token_reply(status, &body)
}

async fn refresh_flow(server: &TestServer, r: &Realised) -> Real {
    let now = server.state.now();
    let family = RefreshFamily {
        id: "fam_case".into(),
        client_id: r.client.client_id.clone(),
        user_id: user_id(server, r).await,
        audience: r.audience.as_ref().map(|a| a.value().to_string()),
        scope: r.scope.to_string(),
        auth_time: now,
        sid: Some("sid_case".into()),
        created_at: now,
        expires_at: None,
        revoked_at: None,
    };
    server
        .store
        .create_refresh_family(
            &family,
            &hash_token(REFRESH_TOKEN),
            MAX_ACTIVE_REFRESH_TOKENS,
            None,
        )
        .await
        .unwrap();
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", REFRESH_TOKEN),
    ];
    with_client(&mut pairs, r);
    let (status, body) = post_token(server, &pairs).await;
    Real::from_token_reply(status, &body)
}

async fn user_id(server: &TestServer, r: &Realised) -> String {
    let user = server
        .store
        .user_by_email("Username-Password-Authentication", &r.email)
        .await
        .unwrap()
        .expect("the case's user");
    user.user.user_id
}

async fn device_flow(server: &TestServer, r: &Realised) -> Real {
    let mut pairs = Vec::new();
    with_client(&mut pairs, r);
    with_audience(&mut pairs, r);
    let reply = server.post_form("/oauth/device/code", &pairs).await;
    if reply.status.as_u16() != 200 {
        return Real::from_token_reply(reply.status.as_u16(), &reply.body);
    }
    let device_code = reply.body["device_code"].as_str().unwrap().to_string();
    let user = user_id(server, r).await;
    // What approving at /activate does.
    let moved = server
        .store
        .transition_device_code(
            &hash_token(&device_code),
            DeviceStatus::Pending,
            DeviceStatus::Approved,
            Some(&user),
        )
        .await
        .unwrap();
    assert!(moved, "the device code is approved");
    let mut pairs = vec![("grant_type", DEVICE_CODE), ("device_code", &device_code)];
    with_client(&mut pairs, r);
    let (status, body) = post_token(server, &pairs).await;
    Real::from_token_reply(status, &body)
}

/// `/authorize` in a browser: login, then consent when the page is shown.
/// Returns the final redirect to the callback and whether consent was shown.
async fn authorize_in_browser(
    server: &TestServer,
    browser: &reqwest::Client,
    r: &Realised,
    query: &str,
) -> (String, bool) {
    let resp = get(browser, &server.url(&format!("/authorize?{query}"))).await;
    let mut to = location(&resp);
    if to.starts_with("/u/login") {
        let page = get(browser, &server.url(&to)).await;
        let csrf = csrf_in(&page.text().await.unwrap());
        let form = [
            ("csrf", csrf.as_str()),
            ("authorize", query),
            ("email", r.email.as_str()),
            ("password", PASSWORD),
        ];
        to = location(&post_form(browser, &server.url("/u/login"), &form).await);
    }
    let mut consent_shown = false;
    if to.starts_with("/u/consent") {
        consent_shown = true;
        let page = get(browser, &server.url(&to)).await;
        let csrf = csrf_in(&page.text().await.unwrap());
        let form = [
            ("csrf", csrf.as_str()),
            ("authorize", query),
            ("decision", "accept"),
        ];
        to = location(&post_form(browser, &server.url("/u/consent"), &form).await);
    }
    assert!(to.starts_with(&r.callback), "ends at the callback: {to}");
    (to, consent_shown)
}

fn csrf_in(body: &str) -> String {
    let start = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    body[start..start + 43].to_string()
}

async fn post_form(
    browser: &reqwest::Client,
    url: &str,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(pairs))
        .send()
        .await
        .unwrap()
}

fn authorize_query(r: &Realised, response_type: &str, extra: &[(&str, &str)]) -> String {
    let challenge = s256_challenge(VERIFIER);
    let mut pairs = vec![
        ("client_id", r.client.client_id.as_str()),
        ("response_type", response_type),
        ("redirect_uri", r.callback.as_str()),
        ("state", "st-1"),
    ];
    // A nonce is required for an ID token from `/authorize`; the code flow
    // sends none, as the simulation assumes.
    if response_type != "code" {
        pairs.push(("nonce", "n-1"));
    }
    if response_type == "code" {
        pairs.push(("code_challenge", &challenge));
        pairs.push(("code_challenge_method", "S256"));
    }
    if r.prompt_consent {
        pairs.push(("prompt", "consent"));
    }
    pairs.extend_from_slice(extra);
    with_audience(&mut pairs, r);
    encode(&pairs)
}

async fn code_flow(server: &TestServer, r: &Realised) -> Real {
    let browser = server.browser();
    let query = authorize_query(r, "code", &[]);
    let (to, consent_shown) = authorize_in_browser(server, &browser, r, &query).await;
    let p = params_of(&to, '?');
    let Some(code) = p.get("code") else {
        return Real {
            consent_shown,
            ..Real::refused(
                p.get("error").map(|s| s.as_str()),
                p.get("error_description").map(|s| s.as_str()),
            )
        };
    };
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", VERIFIER),
        ("redirect_uri", r.callback.as_str()),
    ];
    with_client(&mut pairs, r);
    let (status, body) = post_token(server, &pairs).await;
    Real {
        consent_shown,
        ..Real::from_token_reply(status, &body)
    }
}

/// Interactive first (login, consent), then `prompt=none`, whose log event
/// carries the trace.
async fn implicit_flow(server: &TestServer, r: &Realised) -> Real {
    let browser = server.browser();
    let response_type = if r.scope.split(' ').any(|s| s == "openid") || r.scope.is_empty() {
        "id_token token"
    } else {
        "token"
    };
    let query = authorize_query(r, response_type, &[]);
    let (to, consent_shown) = authorize_in_browser(server, &browser, r, &query).await;
    let p = params_of(&to, '#');
    if !p.contains_key("access_token") {
        return Real {
            consent_shown,
            ..Real::refused(
                p.get("error").map(|s| s.as_str()),
                p.get("error_description").map(|s| s.as_str()),
            )
        };
    }
    let before = server
        .store
        .count_log_events(&gatehouse_store::LogFilter::default())
        .await
        .unwrap();
    let silent = authorize_query(r, response_type, &[("prompt", "none")]);
    let resp = get(&browser, &server.url(&format!("/authorize?{silent}"))).await;
    let p = params_of(&location(&resp), '#');
    Real {
        access_token: p.get("access_token").cloned(),
        id_token: p.get("id_token").cloned(),
        refresh_token: false,
        consent_shown,
        trace: newest_trace(server, before).await,
        error: None,
    }
}

fn jwt_claims(jwt: &str) -> Option<Value> {
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `claims` with the values of `varying` replaced by a presence marker.
fn comparable(claims: &Value, varying: &[&str]) -> Value {
    let mut claims = claims.clone();
    if let Some(map) = claims.as_object_mut() {
        for key in varying {
            if let Some(v) = map.get_mut(*key) {
                *v = json!("(present)");
            }
        }
    }
    claims
}

/// Every disagreement between the simulation and the real issuance; also
/// whether the trace was compared.
fn compare(sim: &Simulation, real: &Real, flow: Flow, prompt_consent: bool) -> (Vec<String>, bool) {
    let mut bad = Vec::new();
    let mut eq = |what: &str, s: String, r: String| {
        if s != r {
            bad.push(format!("{what}: simulated {s}, real {r}"));
        }
    };
    let sim_error = sim
        .error
        .as_ref()
        .map(|e| (e.error.clone(), e.error_description.clone()));
    eq(
        "outcome",
        format!("{:?}", sim.outcome),
        format!(
            "{:?}",
            if real.error.is_some() {
                Outcome::Refused
            } else {
                Outcome::Issued
            }
        ),
    );
    eq(
        "error",
        format!("{sim_error:?}"),
        format!("{:?}", real.error),
    );
    let sim_at = sim.access_token.as_ref().map(|at| match at.format {
        AccessTokenFormat::Jwt => comparable(
            at.claims.as_ref().unwrap_or(&Value::Null),
            ACCESS_TOKEN_VARYING,
        ),
        AccessTokenFormat::Opaque => json!("opaque"),
    });
    let real_at = real.access_token.as_deref().map(|t| match jwt_claims(t) {
        Some(claims) => comparable(&claims, ACCESS_TOKEN_VARYING),
        None => json!("opaque"),
    });
    eq(
        "access token",
        format!("{sim_at:?}"),
        format!("{real_at:?}"),
    );
    let sim_id = sim
        .id_token
        .as_ref()
        .map(|t| comparable(&t.claims, ID_TOKEN_VARYING));
    let real_id = real
        .id_token
        .as_deref()
        .and_then(jwt_claims)
        .map(|c| comparable(&c, ID_TOKEN_VARYING));
    eq("id token", format!("{sim_id:?}"), format!("{real_id:?}"));
    eq(
        "refresh token",
        sim.refresh_token.to_string(),
        real.refresh_token.to_string(),
    );
    if matches!(flow, Flow::AuthorizationCode | Flow::Implicit)
        && real.error.is_none()
        && !prompt_consent
    {
        eq(
            "consent",
            sim.consent_required.to_string(),
            real.consent_shown.to_string(),
        );
    }
    let sim_trace = sim.trace.as_ref().map(|t| serde_json::to_value(t).unwrap());
    let compared = match (&real.trace, &sim_trace) {
        (Some(real_trace), _) => {
            eq(
                "trace",
                format!("{sim_trace:#?}"),
                format!("{:#?}", Some(real_trace)),
            );
            true
        }
        // A refusal at `/authorize` logs no trace; anything else must have none either.
        (None, Some(_))
            if real.error.is_some() && matches!(flow, Flow::AuthorizationCode | Flow::Implicit) =>
        {
            false
        }
        (None, s) => {
            eq("trace", format!("{s:?}"), "None".into());
            true
        }
    };
    (bad, compared)
}

fn request_of(case: &Case, r: &Realised) -> SimulateRequest {
    let (audience, resource) = match &r.audience {
        Some(AudienceParam::Audience(a)) => (Some(a.clone()), None),
        Some(AudienceParam::Resource(a)) => (None, Some(a.clone())),
        None => (None, None),
    };
    SimulateRequest {
        client_id: r.client.client_id.clone(),
        user: case.flow.is_user_flow().then(|| r.email.clone()),
        audience,
        resource,
        scope: (!r.scope.is_empty()).then(|| r.scope.to_string()),
        grant: Some(grant_type_of(case.flow).to_string()),
    }
}

#[tokio::test]
async fn simulation_equals_real_issuance_for_every_decision_case() {
    let cases = decision_cases::all();
    let total = cases.len();
    let mut failures = Vec::new();
    let mut traces_not_compared = Vec::new();
    for case in &cases {
        let server = TestServer::start().await;
        let realised = build_world(&server, case).await;
        // Simulated first: the real flow writes (consent, login count, family).
        let sim = simulate(&server.state, &request_of(case, &realised))
            .await
            .unwrap_or_else(|e| panic!("case {}: simulate failed: {e}", case.name));
        let real = issue_for_real(&server, case, &realised).await;
        let (bad, compared) = compare(&sim, &real, case.flow, realised.prompt_consent);
        if !bad.is_empty() {
            failures.push(format!(
                "case {} ({:?}):\n  {}",
                case.name,
                case.flow,
                bad.join("\n  ")
            ));
        }
        if !compared {
            traces_not_compared.push(case.name);
        }
        server.stop().await;
    }
    eprintln!(
        "{} of {total} cases realised over HTTP; trace not compared (refused at /authorize, no log event) for {}: {:?}",
        total,
        traces_not_compared.len(),
        traces_not_compared
    );
    assert!(
        failures.is_empty(),
        "{} of {total} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const SIMULATE: &str = "/x-gatehouse/simulate";

/// A bootstrapped server with seed 000 (alice has the role reader).
async fn seeded() -> (Mgmt, Seeded) {
    let mgmt = Mgmt::start().await;
    let s = seed(mgmt.server.store.as_ref()).await;
    (mgmt, s)
}

#[tokio::test]
async fn simulate_endpoint_answers_the_would_be_token() {
    let (mgmt, s) = seeded().await;
    let reply = mgmt
        .post(
            SIMULATE,
            json!({
                "client_id": s.spa_id,
                "user": "alice@example.com",
                "audience": API,
                "scope": "openid read:measurements write:measurements",
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let sim: Simulation = serde_json::from_value(reply.body.clone()).expect("reads back");
    assert_eq!(sim.outcome, Outcome::Issued);
    assert_eq!(sim.grant, "authorization_code");
    assert_eq!(sim.scope.as_deref(), Some("openid read:measurements"));
    assert_eq!(
        sim.user.as_ref().map(|u| u.user_id.as_str()),
        Some(s.alice.user_id.as_str())
    );
    let at = sim.access_token.as_ref().expect("an access token");
    assert_eq!(at.format, AccessTokenFormat::Jwt);
    let claims = at.claims.as_ref().expect("claims");
    assert_eq!(claims["jti"], SIMULATED);
    assert_eq!(claims["permissions"], json!(["read:measurements"]));
    assert_eq!(claims["iat"], mgmt.server.state.now());
    let id = sim.id_token.as_ref().expect("an ID token");
    assert_eq!(id.claims["at_hash"], SIMULATED);
    let trace = sim.trace.as_ref().expect("a trace");
    assert!(!trace.scope("write:measurements").expect("traced").granted);

    // No audience: an opaque token for /userinfo, said so.
    let reply = mgmt
        .post(
            SIMULATE,
            json!({"client_id": s.spa_id, "user": s.alice.user_id, "grant": "password", "scope": "openid"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["access_token"]["format"], "opaque");
    assert_eq!(
        reply.body["access_token"]["note"],
        "opaque, for /userinfo only"
    );
    assert_eq!(reply.body["expires_in"], 86_400);

    let doc = mgmt.server.get("/api/v2/openapi.json").await.body;
    let op = &doc["paths"]["/x-gatehouse/simulate"]["post"];
    assert!(op.is_object(), "described");
    let schemas = &doc["components"]["schemas"];
    for name in ["SimulateRequest", "Simulation", "SimulatedAccessToken"] {
        assert!(
            schemas[name]["properties"].is_object(),
            "{name}: {}",
            schemas[name]
        );
    }
    assert!(schemas["Simulation"]["properties"]["trace"].is_object());
    mgmt.server.stop().await;
}

#[tokio::test]
async fn simulate_endpoint_answers_refusals_with_auth0s_strings() {
    let (mgmt, s) = seeded().await;
    // The web app does not have the device code grant.
    let reply = mgmt
        .post(
            SIMULATE,
            json!({"client_id": s.web_id, "user": "bob@example.com", "grant": DEVICE_CODE}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["outcome"], "refused");
    assert_eq!(
        reply.body["error"],
        json!({
            "error": "unauthorized_client",
            "error_description": format!("Grant type '{DEVICE_CODE}' not allowed for the client."),
        })
    );
    assert!(reply.body["trace"].is_null());
    // A blocked user.
    let store = mgmt.server.store.as_ref();
    let mut bob = store.user(&s.bob.user_id).await.unwrap().unwrap();
    bob.user.blocked = true;
    store.update_user(&bob).await.unwrap();
    let reply = mgmt
        .post(
            SIMULATE,
            json!({"client_id": s.spa_id, "user": "bob@example.com", "grant": "password"}),
        )
        .await;
    assert_eq!(reply.body["outcome"], "refused", "{}", reply.text);
    assert_eq!(reply.body["error"]["error"], "invalid_grant");
    assert_eq!(reply.body["error"]["error_description"], "user is blocked");
    // An unknown audience, refused by the decision with its trace.
    let reply = mgmt
        .post(
            SIMULATE,
            json!({"client_id": s.m2m_id, "grant": "client_credentials", "audience": "https://nope.example/"}),
        )
        .await;
    assert_eq!(reply.body["outcome"], "refused", "{}", reply.text);
    assert_eq!(
        reply.body["error"]["error_description"],
        "Service not found: https://nope.example/"
    );
    // A default directory that is not a connection: the real password grant
    // and the simulation refuse it alike.
    let mut tenant = store.tenant_settings().await.unwrap();
    tenant.default_directory = "Corporate-LDAP".into();
    store.put_tenant_settings(&tenant).await.unwrap();
    bob.user.blocked = false;
    store.update_user(&bob).await.unwrap();
    let real = mgmt
        .server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "password"),
                ("client_id", &s.spa_id),
                ("username", "bob@example.com"),
                ("password", crate::fixtures::PASSWORD),
            ],
        )
        .await;
    let reply = mgmt
        .post(
            SIMULATE,
            json!({"client_id": s.spa_id, "user": "bob@example.com", "grant": "password"}),
        )
        .await;
    assert_eq!(reply.body["outcome"], "refused", "{}", reply.text);
    assert_eq!(
        reply.body["error"], real.body,
        "simulation and issuance agree"
    );
    assert_eq!(
        real.body["error_description"],
        "The connection Corporate-LDAP does not exist."
    );
    mgmt.server.stop().await;
}

#[tokio::test]
async fn simulate_endpoint_needs_read_logs_or_simulate_tokens() {
    let (mgmt, s) = seeded().await;
    let body = json!({"client_id": s.m2m_id, "grant": "client_credentials", "audience": API});
    let other = mgmt.token_with(&["read:users", "read:clients"]).await;
    let reply = mgmt
        .call_as(Some(&other), Method::POST, SIMULATE, Some(body.clone()))
        .await;
    assert_mgmt_error(&reply, 403, "insufficient_scope");
    assert!(reply.body["message"]
        .as_str()
        .unwrap()
        .ends_with("read:logs,simulate:tokens"));
    let reply = mgmt
        .call_as(None, Method::POST, SIMULATE, Some(body.clone()))
        .await;
    assert_eq!(reply.status, 401);
    for scope in ["read:logs", "simulate:tokens"] {
        let token = mgmt.token_with(&[scope]).await;
        let reply = mgmt
            .call_as(Some(&token), Method::POST, SIMULATE, Some(body.clone()))
            .await;
        assert_eq!(reply.status, 200, "{scope}: {}", reply.text);
        assert_eq!(reply.body["outcome"], "issued");
    }
    mgmt.server.stop().await;
}

#[tokio::test]
async fn simulate_endpoint_rejects_bad_requests_in_the_management_shape() {
    let (mgmt, s) = seeded().await;
    let cases = [
        (
            json!({"client_id": "nope", "user": "alice@example.com"}),
            404,
            "inexistent_client",
        ),
        (
            json!({"client_id": s.spa_id, "user": "nobody@example.com"}),
            404,
            "inexistent_user",
        ),
        (
            json!({"client_id": s.spa_id, "user": "auth0|nope"}),
            404,
            "inexistent_user",
        ),
        (
            json!({"client_id": s.spa_id, "user": "alice@example.com", "grant": "Password"}),
            400,
            "invalid_body",
        ),
        (
            json!({"client_id": s.spa_id, "user": "alice@example.com", "grant": "password' OR 1=1 --"}),
            400,
            "invalid_body",
        ),
        (json!({"client_id": s.spa_id}), 400, "invalid_body"),
        (
            json!({"client_id": s.m2m_id, "user": "alice@example.com", "grant": "client_credentials"}),
            400,
            "invalid_body",
        ),
        (
            json!({"client_id": s.spa_id, "user": "alice@example.com", "prompt": "none"}),
            400,
            "invalid_body",
        ),
        (json!({"user": "alice@example.com"}), 400, "invalid_body"),
        (json!({"client_id": 7}), 400, "invalid_body"),
        (json!([]), 400, "invalid_body"),
        (json!({"client_id": "a\u{0}b"}), 400, "invalid_body"),
    ];
    for (body, status, code) in cases {
        let reply = mgmt.post(SIMULATE, body.clone()).await;
        assert_mgmt_error(&reply, status, code);
        assert!(!reply.text.contains("Internal"), "{body}: {}", reply.text);
    }
    let reply = mgmt.raw(Method::POST, SIMULATE, "{not json").await;
    assert_mgmt_error(&reply, 400, "invalid_json");
    let huge = format!("{{\"client_id\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let reply = mgmt.raw(Method::POST, SIMULATE, &huge).await;
    assert_eq!(reply.status, 413, "{}", reply.text);
    mgmt.server.stop().await;
}

#[tokio::test]
async fn simulate_writes_nothing() {
    let (mgmt, s) = seeded().await;
    let server = &mgmt.server;
    let store = server.store.as_ref();
    let events_before = store
        .count_log_events(&gatehouse_store::LogFilter::default())
        .await
        .unwrap();
    let alice_before = store.user(&s.alice.user_id).await.unwrap().unwrap().user;
    let requests = [
        json!({"client_id": s.spa_id, "user": "alice@example.com", "audience": API, "scope": "openid offline_access read:measurements"}),
        json!({"client_id": s.spa_id, "user": "alice@example.com", "scope": "openid offline_access"}),
        json!({"client_id": s.spa_id, "user": "alice@example.com", "grant": "password", "scope": "openid offline_access"}),
        json!({"client_id": s.spa_id, "user": "alice@example.com", "grant": "token", "scope": "openid"}),
        json!({"client_id": s.spa_id, "user": "alice@example.com", "grant": "refresh_token", "scope": "openid offline_access"}),
        json!({"client_id": s.spa_id, "user": "alice@example.com", "grant": DEVICE_CODE, "scope": "openid offline_access"}),
        json!({"client_id": s.m2m_id, "grant": "client_credentials", "audience": API}),
        json!({"client_id": s.m2m_id, "grant": "client_credentials", "audience": OTHER_API}),
    ];
    for body in &requests {
        let reply = mgmt.post(SIMULATE, body.clone()).await;
        assert_eq!(reply.status, 200, "{body}: {}", reply.text);
    }
    // A simulation is a read: not even the Management API's audit (`sapi`) logs it.
    let added = store
        .count_log_events(&gatehouse_store::LogFilter::default())
        .await
        .unwrap()
        - events_before;
    assert_eq!(added, 0);
    // The function the CLI calls directly writes none.
    for body in &requests {
        let req: SimulateRequest = serde_json::from_value(body.clone()).unwrap();
        simulate(&server.state, &req).await.unwrap();
    }
    assert_eq!(
        store
            .count_log_events(&gatehouse_store::LogFilter::default())
            .await
            .unwrap()
            - events_before,
        added,
        "no log event from the simulation"
    );
    let alice_after = store.user(&s.alice.user_id).await.unwrap().unwrap().user;
    assert_eq!(
        alice_after.logins_count, alice_before.logins_count,
        "no login counted"
    );
    assert_eq!(alice_after.last_login, alice_before.last_login);
    let now = server.state.now();
    let families = store
        .revoke_refresh_families_for(&s.alice.user_id, &s.spa_id, now)
        .await
        .unwrap();
    assert_eq!(families, 0, "no refresh-token family");
    // Everything short-lived expires within ten years: nothing was written.
    let report = store
        .purge_expired(now + 10 * 365 * 86_400, i64::MAX / 4, 1_000)
        .await
        .unwrap();
    assert_eq!(report.opaque_tokens, 0, "no opaque token");
    assert_eq!(report.authorization_codes, 0, "no code");
    assert_eq!(report.device_codes, 0, "no device code");
    mgmt.server.stop().await;
}
