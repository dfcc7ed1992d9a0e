//! Table-driven tests of the grant decision: a named case is a world (tenant, APIs,
//! client, user, grants, consent) plus a request, and the outcome it must produce.
//! The cases live in [`user_cases`] and [`client_cases`]; this file holds the world,
//! the case builder, the runner with its trace invariants, and a few unit tests.

mod client_cases;
mod user_cases;

use super::*;
use crate::error::ErrorCode;
use crate::model::{AppType, PermissionSource, ScopeDefinition, SubjectType, TenantSettings};
use crate::scope::ScopeSet;

pub(super) const MEAS: &str = "https://measurements.example/";
pub(super) const MYAPI: &str = "https://myapi.example";
pub(super) const OTHER: &str = "https://other.example/";
pub(super) const MGMT: &str = "https://tenant.example/api/v2/";

/// Everything the store would load for a request.
#[derive(Clone)]
pub(super) struct World {
    pub tenant: TenantSettings,
    pub apis: Vec<ResourceServer>,
    pub client: Client,
    pub user: User,
    pub permissions: Vec<EffectivePermission>,
    pub roles_granting: Vec<(String, Vec<String>)>,
    pub grants: Vec<ClientGrant>,
    pub consent: Option<TestConsent>,
}

#[derive(Clone, Default)]
pub(super) struct TestConsent {
    pub consented: Option<ScopeSet>,
    pub prompt: bool,
    pub loopback: bool,
}

fn api(id: &str, identifier: &str, name: &str, scopes: &[&str]) -> ResourceServer {
    let mut api = ResourceServer::new(id, name, identifier);
    api.scopes = scopes
        .iter()
        .map(|s| ScopeDefinition {
            value: s.to_string(),
            description: String::new(),
        })
        .collect();
    api
}

impl World {
    /// Seed 000's Measurements API (RBAC on, permissions in the token), seed 001's
    /// API (RBAC off), a third API, the Management API; an Angular SPA; bob.
    pub fn new() -> Self {
        let mut meas = api(
            "rs_meas",
            MEAS,
            "Measurements",
            &["read:measurements", "write:measurements"],
        );
        meas.enforce_policies = true;
        meas.token_dialect = TokenDialect::AccessTokenAuthz;
        let mut mgmt = api("rs_mgmt", MGMT, "Auth0 Management API", &["read:users"]);
        mgmt.is_system = true;
        Self {
            tenant: TenantSettings::default(),
            apis: vec![
                meas,
                api("rs_my", MYAPI, "My API", &["myscope", "other:scope"]),
                api("rs_other", OTHER, "Other API", &["shared:scope"]),
                mgmt,
            ],
            client: Client::new("spa_client", "Angular SPA", AppType::Spa),
            user: User::new("auth0|0123456789abcdef01234567", "bob@example.com", 0),
            permissions: Vec::new(),
            roles_granting: Vec::new(),
            grants: Vec::new(),
            consent: None,
        }
    }

    pub fn api(&mut self, identifier: &str) -> &mut ResourceServer {
        self.apis
            .iter_mut()
            .find(|a| a.identifier == identifier)
            .expect("test API exists")
    }

    /// Gives bob `scope` with these role names (empty = directly).
    pub fn permit(&mut self, scope: &str, roles: &[&str]) {
        let sources = if roles.is_empty() {
            vec![PermissionSource::Direct]
        } else {
            roles
                .iter()
                .map(|r| PermissionSource::Role {
                    role_id: format!("rol_{r}"),
                    role_name: r.to_string(),
                })
                .collect()
        };
        self.permissions.push(EffectivePermission {
            permission_name: scope.into(),
            sources,
        });
    }

    pub fn role_grants(&mut self, scope: &str, roles: &[&str]) {
        self.roles_granting
            .push((scope.into(), roles.iter().map(|r| r.to_string()).collect()));
    }

    pub fn grant(
        &mut self,
        audience: &str,
        subject_type: SubjectType,
        scopes: &[&str],
    ) -> &mut ClientGrant {
        self.grants.push(ClientGrant {
            id: format!("cgr_{}", self.grants.len() + 1),
            client_id: Some(self.client.client_id.clone()),
            default_for: None,
            audience: audience.into(),
            scope: scopes.iter().map(|s| s.to_string()).collect(),
            subject_type,
            allow_all_scopes: false,
        });
        let last = self.grants.len() - 1;
        &mut self.grants[last]
    }

    pub fn third_party(&mut self) {
        self.client.is_first_party = false;
    }

    /// A machine-to-machine client instead of the SPA.
    pub fn m2m(&mut self) {
        self.client = Client::new("m2m_client", "Nightly Sync", AppType::NonInteractive);
    }

    pub fn consent(&mut self, consented: Option<&str>, prompt: bool, loopback: bool) {
        self.consent = Some(TestConsent {
            consented: consented.map(ScopeSet::parse),
            prompt,
            loopback,
        });
    }
}

/// What a case must produce; `None` fields are not checked.
#[derive(Default)]
pub(super) struct Expect {
    error: Option<(ErrorCode, Option<String>)>,
    audience: Option<Option<&'static str>>,
    audience_rule: Option<AudienceRule>,
    scope: Option<&'static str>,
    permissions: Option<Option<Vec<&'static str>>>,
    refresh: Option<bool>,
    id_token: Option<bool>,
    consent: Option<bool>,
    format: Option<TokenFormat>,
    expires_in: Option<u64>,
    rules: Vec<(&'static str, ScopeRule, bool)>,
    mentions: Vec<&'static str>,
}

pub(super) struct Case {
    name: &'static str,
    world: World,
    flow: Flow,
    audience: Option<AudienceParam>,
    scope: &'static str,
    expect: Expect,
}

/// A case: the default world, the authorization code flow, no audience.
pub(super) fn case(name: &'static str, scope: &'static str) -> Case {
    Case {
        name,
        world: World::new(),
        flow: Flow::AuthorizationCode,
        audience: None,
        scope,
        expect: Expect::default(),
    }
}

impl Case {
    pub fn flow(mut self, flow: Flow) -> Self {
        self.flow = flow;
        self
    }
    pub fn aud(mut self, aud: &str) -> Self {
        self.audience = Some(AudienceParam::Audience(aud.into()));
        self
    }
    pub fn resource(mut self, aud: &str) -> Self {
        self.audience = Some(AudienceParam::Resource(aud.into()));
        self
    }
    pub fn world(mut self, f: impl FnOnce(&mut World)) -> Self {
        f(&mut self.world);
        self
    }
    pub fn err(mut self, code: ErrorCode, description: &str) -> Self {
        self.expect.error = Some((code, Some(description.into())));
        self
    }
    pub fn err_code(mut self, code: ErrorCode) -> Self {
        self.expect.error = Some((code, None));
        self
    }
    pub fn audience_is(mut self, aud: Option<&'static str>, rule: AudienceRule) -> Self {
        self.expect.audience = Some(aud);
        self.expect.audience_rule = Some(rule);
        self
    }
    pub fn audience_rule(mut self, rule: AudienceRule) -> Self {
        self.expect.audience_rule = Some(rule);
        self
    }
    pub fn scope_is(mut self, scope: &'static str) -> Self {
        self.expect.scope = Some(scope);
        self
    }
    pub fn perms(mut self, perms: &[&'static str]) -> Self {
        self.expect.permissions = Some(Some(perms.to_vec()));
        self
    }
    pub fn no_perms(mut self) -> Self {
        self.expect.permissions = Some(None);
        self
    }
    pub fn refresh(mut self, yes: bool) -> Self {
        self.expect.refresh = Some(yes);
        self
    }
    pub fn id_token(mut self, yes: bool) -> Self {
        self.expect.id_token = Some(yes);
        self
    }
    pub fn consent_required(mut self, yes: bool) -> Self {
        self.expect.consent = Some(yes);
        self
    }
    pub fn format(mut self, format: TokenFormat, expires_in: u64) -> Self {
        self.expect.format = Some(format);
        self.expect.expires_in = Some(expires_in);
        self
    }
    pub fn expires_in(mut self, secs: u64) -> Self {
        self.expect.expires_in = Some(secs);
        self
    }
    pub fn rule(mut self, scope: &'static str, rule: ScopeRule, granted: bool) -> Self {
        self.expect.rules.push((scope, rule, granted));
        self
    }
    /// Text the rendered trace must contain.
    pub fn mentions(mut self, text: &'static str) -> Self {
        self.expect.mentions.push(text);
        self
    }
}

pub(super) fn jwt(alg: SigningAlg, dialect: TokenDialect, lifetime: u64) -> TokenFormat {
    TokenFormat::Jwt {
        alg,
        dialect,
        lifetime,
    }
}

/// Both phases, as the HTTP layer runs them.
fn run_phases(case: &Case) -> Result<Decision, Refusal> {
    let w = &case.world;
    let requested = ScopeSet::parse(case.scope);
    let audience_input = AudienceInput {
        requested: case.audience.clone(),
        requested_scopes: &requested,
        tenant: &w.tenant,
        apis: &w.apis,
    };
    let choice = choose_audience_traced(&audience_input)?;
    let input = DecisionInput {
        flow: case.flow,
        client: &w.client,
        audience: &choice,
        requested_scopes: &requested,
        user: case.flow.is_user_flow().then_some(UserFacts {
            user: &w.user,
            permissions: &w.permissions,
            roles_granting: &w.roles_granting,
        }),
        client_grants: &w.grants,
        consent: w.consent.as_ref().map(|c| ConsentFacts {
            consented: c.consented.as_ref(),
            prompt_consent: c.prompt,
            loopback_redirect: c.loopback,
        }),
    };
    let traced = decide_traced(&input);
    // The plain entry points agree with the traced ones.
    assert_eq!(
        decide(&input).map_err(|e| e.error_description),
        traced.clone().map_err(|r| r.error.error_description),
        "{}: decide and decide_traced disagree",
        case.name
    );
    traced
}

/// Runs one case; returns every mismatch.
fn check(case: &Case) -> Vec<String> {
    let mut bad = Vec::new();
    let outcome = run_phases(case);
    let trace = match &outcome {
        Ok(d) => &d.trace,
        Err(r) => &*r.trace,
    };
    check_trace_invariants(case, trace, &outcome, &mut bad);
    let e = &case.expect;
    match (&outcome, &e.error) {
        (Err(r), Some((code, desc))) => {
            if r.error.error != *code {
                bad.push(format!("error code {:?}, want {code:?}", r.error.error));
            }
            if let Some(desc) = desc {
                if &r.error.error_description != desc {
                    bad.push(format!(
                        "error description {:?}, want {desc:?}",
                        r.error.error_description
                    ));
                }
            }
        }
        (Err(r), None) => bad.push(format!("unexpected error {}", r.error)),
        (Ok(_), Some((code, _))) => bad.push(format!("expected error {code:?}, got a decision")),
        (Ok(d), None) => check_decision(e, d, &mut bad),
    }
    if let Some(rule) = e.audience_rule {
        if trace.audience.rule != rule {
            bad.push(format!(
                "audience rule {:?}, want {rule:?}",
                trace.audience.rule
            ));
        }
    }
    for (scope, rule, granted) in &e.rules {
        match trace.scope(scope) {
            Some(t) if t.rule == *rule && t.granted == *granted => {}
            Some(t) => bad.push(format!(
                "{scope}: rule {:?} granted {}, want {rule:?} granted {granted}",
                t.rule, t.granted
            )),
            None => bad.push(format!("{scope}: no trace entry")),
        }
    }
    let text = trace.to_string();
    for m in &e.mentions {
        if !text.contains(m) {
            bad.push(format!("trace does not mention {m:?}:\n{text}"));
        }
    }
    bad
}

fn check_decision(e: &Expect, d: &Decision, bad: &mut Vec<String>) {
    let mut eq = |what: &str, got: String, want: String| {
        if got != want {
            bad.push(format!("{what}: got {got}, want {want}"));
        }
    };
    if let Some(aud) = e.audience {
        eq("audience", format!("{:?}", d.audience), format!("{aud:?}"));
    }
    if let Some(scope) = e.scope {
        eq("scope", d.scope.to_string(), scope.to_string());
    }
    if let Some(perms) = &e.permissions {
        let want = perms
            .as_ref()
            .map(|p| p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        eq(
            "permissions",
            format!("{:?}", d.permissions),
            format!("{want:?}"),
        );
    }
    let flags = [
        ("refresh", e.refresh, d.issue_refresh_token),
        ("id_token", e.id_token, d.issue_id_token),
        ("consent", e.consent, d.consent_required),
    ];
    for (what, want, got) in flags {
        if let Some(want) = want {
            eq(what, got.to_string(), want.to_string());
        }
    }
    if let Some(format) = e.format {
        eq(
            "format",
            format!("{:?}", d.token_format),
            format!("{format:?}"),
        );
    }
    if let Some(secs) = e.expires_in {
        eq("expires_in", d.expires_in.to_string(), secs.to_string());
    }
}

/// Holds for every case: one trace entry per requested scope in request order,
/// implied ones after; every dropped scope has a fix; sentences end with a period;
/// `scope` is exactly the granted entries; the trace survives a JSON round trip.
fn check_trace_invariants(
    case: &Case,
    trace: &Trace,
    outcome: &Result<Decision, Refusal>,
    bad: &mut Vec<String>,
) {
    let requested_set = ScopeSet::parse(case.scope);
    let requested: Vec<&str> = requested_set.iter().collect();
    let named: Vec<&str> = trace
        .scopes
        .iter()
        .filter(|t| !t.implied)
        .map(|t| t.scope.as_str())
        .collect();
    let audience_refusal = outcome.is_err() && trace.scopes.is_empty();
    if !audience_refusal && named != requested {
        bad.push(format!("trace scopes {named:?}, want {requested:?}"));
    }
    let first_implied = trace.scopes.iter().position(|t| t.implied);
    if let Some(i) = first_implied {
        if trace.scopes.iter().skip(i).any(|t| !t.implied) {
            bad.push("implied scopes must come after the named ones".into());
        }
    }
    for t in &trace.scopes {
        if !t.granted && t.fix.as_deref().is_none_or(str::is_empty) {
            bad.push(format!("{}: dropped without a fix", t.scope));
        }
        if !t.explanation.ends_with('.') {
            bad.push(format!("{}: explanation is not a sentence", t.scope));
        }
    }
    if !trace.audience.explanation.ends_with('.') {
        bad.push("audience explanation is not a sentence".into());
    }
    if let Ok(d) = outcome {
        let granted: ScopeSet = trace
            .scopes
            .iter()
            .filter(|t| t.granted)
            .map(|t| t.scope.as_str())
            .collect();
        if granted != d.scope {
            bad.push(format!(
                "scope {} is not the granted trace entries {granted}",
                d.scope
            ));
        }
    }
    match serde_json::to_string(trace).map(|j| serde_json::from_str::<Trace>(&j)) {
        Ok(Ok(back)) if &back == trace => {}
        other => bad.push(format!("trace JSON round trip failed: {other:?}")),
    }
}

/// Runs a table; fails listing every broken case.
pub(super) fn run_table(cases: Vec<Case>) {
    let mut names = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for case in &cases {
        assert!(names.insert(case.name), "duplicate case name {}", case.name);
        let bad = check(case);
        if !bad.is_empty() {
            failures.push(format!("case {}:\n  {}", case.name, bad.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn user_flow_without_user_is_a_server_error() {
    let w = World::new();
    let requested = ScopeSet::parse("openid");
    let choice = choose_audience(&AudienceInput {
        requested: None,
        requested_scopes: &requested,
        tenant: &w.tenant,
        apis: &w.apis,
    })
    .expect("userinfo audience");
    let input = DecisionInput {
        flow: Flow::AuthorizationCode,
        client: &w.client,
        audience: &choice,
        requested_scopes: &requested,
        user: None,
        client_grants: &[],
        consent: None,
    };
    assert_eq!(
        decide(&input).map_err(|e| e.error),
        Err(ErrorCode::ServerError)
    );
}

#[test]
fn trace_json_uses_snake_case_names() {
    let c = case("json", "openid read:measurements")
        .aud(MEAS)
        .world(|w| w.role_grants("read:measurements", &["reader"]));
    let d = run_phases(&c).expect("decision");
    let json = serde_json::to_value(&d).expect("serializes");
    assert_eq!(json["trace"]["audience"]["rule"], "audience_param");
    assert_eq!(
        json["trace"]["scopes"][1]["rule"],
        "rbac_missing_permission"
    );
    assert_eq!(json["trace"]["scopes"][0]["rule"], "oidc_scope");
    assert!(json["trace"]["scopes"][0].get("implied").is_none());
    assert_eq!(json["scope"], "openid");
    assert_eq!(
        json["token_format"],
        serde_json::json!({"type": "jwt", "alg": "RS256", "dialect": "access_token_authz", "lifetime": 86400})
    );
    assert_eq!(
        serde_json::to_value(TokenFormat::Opaque).expect("serializes"),
        serde_json::json!({"type": "opaque"})
    );
    assert_eq!(
        serde_json::to_value(Flow::DeviceCode).expect("serializes"),
        "device_code"
    );
}

#[test]
fn rendered_trace_reads_as_text() {
    let c = case("text", "openid myscope");
    let d = run_phases(&c).expect("decision");
    let text = d.trace.to_string();
    assert!(
        text.starts_with("audience: /userinfo only (userinfo_only)\n"),
        "{text}"
    );
    assert!(
        text.contains("scope myscope: dropped (no_audience)\n"),
        "{text}"
    );
    assert!(
        text.contains("  fix: Pass audience=https://myapi.example"),
        "{text}"
    );
    assert_eq!(d.trace.dropped().count(), 1);
}

#[test]
fn auth0_strings_are_pinned() {
    assert_eq!(
        NO_AUDIENCE_PROVIDED,
        "No audience parameter was provided, and no default audience has been configured"
    );
}

#[test]
fn join_words_reads_naturally() {
    use super::trace::join_words;
    assert_eq!(join_words::<&str>(&[], "or"), "");
    assert_eq!(join_words(&["a"], "or"), "a");
    assert_eq!(join_words(&["a", "b"], "or"), "a or b");
    assert_eq!(join_words(&["a", "b", "c"], "and"), "a, b and c");
}

#[test]
fn flows_classify() {
    assert!(!Flow::ClientCredentials.is_user_flow());
    assert!(Flow::Implicit.is_user_flow());
    assert!(!Flow::Implicit.can_issue_refresh_token());
    assert!(Flow::DeviceCode.can_issue_refresh_token());
}
