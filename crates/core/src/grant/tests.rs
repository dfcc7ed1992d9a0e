//! Table-driven tests of the grant decision: the cases (a world plus a
//! request, and the outcome it must produce) live in [`super::decision_cases`];
//! this file holds the runner with its trace invariants, one test per table,
//! and a few unit tests.

use super::decision_cases::*;
use super::*;
use crate::error::ErrorCode;
use crate::scope::ScopeSet;

#[test]
fn audience_choice() {
    run_table(user_cases::audience_choice());
}

#[test]
fn rbac() {
    run_table(user_cases::rbac());
}

#[test]
fn access_policies() {
    run_table(user_cases::access_policies());
}

#[test]
fn offline_access_and_lifetimes() {
    run_table(user_cases::offline_access_and_lifetimes());
}

#[test]
fn password_grant() {
    run_table(user_cases::password_grant());
}

#[test]
fn consent() {
    run_table(user_cases::consent());
}

#[test]
fn system_api_in_user_flows() {
    run_table(user_cases::system_api_in_user_flows());
}

#[test]
fn client_credentials() {
    run_table(client_cases::client_credentials());
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
    check_explanation(case, trace, &outcome, &mut bad);
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

/// What `gatehouse explain` says about the case agrees with its trace: one
/// line per scope with the verdict and the fix, a refusal first, the token
/// format with every way to name an API when there is none, and every text
/// the case expects the trace to mention.
fn check_explanation(
    case: &Case,
    trace: &Trace,
    outcome: &Result<Decision, Refusal>,
    bad: &mut Vec<String>,
) {
    use crate::explain::{decision_lines, TenantApis, Tone};
    let refused = outcome.as_ref().err();
    let lines = decision_lines(
        refused.map(|r| r.error.error_description.as_str()),
        refused.and_then(|r| r.refusal.as_deref()),
        Some(trace),
        &TenantApis::default(),
    );
    if let Some(r) = refused {
        match lines.first() {
            Some(l) if l.tone == Tone::Refused && l.text.contains(&r.error.error_description) => {}
            other => bad.push(format!(
                "explanation does not start with the refusal: {other:?}"
            )),
        }
    }
    for t in &trace.scopes {
        let topic = format!("scope {}", t.scope);
        let want = if t.granted { Tone::Ok } else { Tone::Dropped };
        match lines.iter().find(|l| l.topic == topic) {
            Some(l) if l.tone == want && l.fix == t.fix && l.text.contains(&t.explanation) => {}
            other => bad.push(format!("explanation of {}: {other:?}", t.scope)),
        }
    }
    if refused.is_none() {
        let format = lines.iter().find(|l| l.topic == "token format");
        let opaque = trace.audience.chosen.is_none();
        let ways = [
            "audience=",
            "resource=",
            "default_audience",
            "infer_audience_from_scope",
        ];
        match format {
            Some(l) if !opaque && l.tone == Tone::Info => {}
            Some(l)
                if opaque
                    && ways
                        .iter()
                        .all(|w| l.fix.as_deref().unwrap_or("").contains(w)) => {}
            other => bad.push(format!("token format line: {other:?}")),
        }
    }
    let said: String = lines
        .iter()
        .map(|l| format!("{} {}\n", l.text, l.fix.as_deref().unwrap_or("")))
        .collect();
    for m in &case.expect.mentions {
        if !said.contains(m) {
            bad.push(format!("explanation does not say {m:?}:\n{said}"));
        }
    }
}

/// Runs a table; fails listing every broken case.
fn run_table(cases: Vec<Case>) {
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
