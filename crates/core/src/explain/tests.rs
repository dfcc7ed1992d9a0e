//! The explanation's words for the seed stories, and the JWT checks against
//! real keys.

use super::token::{check_jwt, AudienceKind, KnownKey, Tenant};
use super::*;
use crate::grant::{
    choose_audience_traced, decide_traced, AudienceInput, AudienceParam, DecisionInput, Flow,
    UserFacts,
};
use crate::jose::{decode_unverified, sign_jwt, KeyPair};
use crate::model::{
    AppType, Client, ResourceServer, ScopeDefinition, SigningAlg, TenantSettings, TokenDialect,
    User,
};
use crate::scope::ScopeSet;
use serde_json::json;

const MEAS: &str = "https://measurements.example/";

fn measurements_api() -> ResourceServer {
    let mut api = ResourceServer::new("rs_meas", "Measurements", MEAS);
    api.scopes = vec![ScopeDefinition {
        value: "read:measurements".into(),
        description: String::new(),
    }];
    api.enforce_policies = true;
    api.token_dialect = TokenDialect::AccessTokenAuthz;
    api
}

fn trace_for(audience: Option<&str>, scope: &str, roles: &[(String, Vec<String>)]) -> Trace {
    let apis = vec![measurements_api()];
    let tenant = TenantSettings::default();
    let requested = ScopeSet::parse(scope);
    let choice = choose_audience_traced(&AudienceInput {
        requested: audience.map(|a| AudienceParam::Audience(a.into())),
        requested_scopes: &requested,
        tenant: &tenant,
        apis: &apis,
    })
    .unwrap();
    let client = Client::new("spa_client", "Angular SPA", AppType::Spa);
    let user = User::new("auth0|bob", "bob@example.com", 0);
    decide_traced(&DecisionInput {
        flow: Flow::AuthorizationCode,
        client: &client,
        audience: &choice,
        requested_scopes: &requested,
        user: Some(UserFacts {
            user: &user,
            permissions: &[],
            roles_granting: roles,
        }),
        client_grants: &[],
        consent: None,
    })
    .unwrap()
    .trace
}

fn event(trace: &Trace, event_type: &str) -> EventFacts {
    EventFacts {
        log_id: "90020261201abc".into(),
        event_type: event_type.into(),
        description: "Success Exchange".into(),
        date: 1_764_547_200,
        client_id: Some("spa_client".into()),
        client_name: Some("Angular SPA".into()),
        user_id: Some("auth0|bob".into()),
        user_name: Some("bob@example.com".into()),
        details: json!({ "trace": trace }),
    }
}

fn text(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| {
            format!(
                "{}: {} fix: {}",
                l.topic,
                l.text,
                l.fix.as_deref().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn seed_000_names_the_dropped_scope_rbac_and_the_role() {
    let roles = vec![("read:measurements".to_string(), vec!["reader".to_string()])];
    let trace = trace_for(Some(MEAS), "openid profile email read:measurements", &roles);
    let lines = event_lines(&event(&trace, "seacft"), &TenantApis::default());
    let all = text(&lines);
    let dropped = lines
        .iter()
        .find(|l| l.topic == "scope read:measurements")
        .unwrap();
    assert_eq!(dropped.tone, Tone::Dropped, "{all}");
    assert!(dropped.text.contains("RBAC"), "{all}");
    assert!(dropped.fix.as_deref().unwrap().contains("reader"), "{all}");
    assert!(all.contains("bob@example.com (auth0|bob)"), "{all}");
    assert!(all.contains("Angular SPA (spa_client)"), "{all}");
    assert!(
        all.contains("a JWT for https://measurements.example/"),
        "{all}"
    );
    assert!(all.contains("ID token: openid was requested"), "{all}");
}

#[test]
fn seed_001_says_opaque_because_no_audience_and_the_four_ways() {
    let trace = trace_for(None, "openid profile email", &[]);
    let apis = TenantApis {
        identifiers: vec![MEAS.into()],
        default_audience: None,
    };
    let lines = event_lines(&event(&trace, "seacft"), &apis);
    let format = lines.iter().find(|l| l.topic == "token format").unwrap();
    assert!(format
        .text
        .contains("opaque, because no audience was given"));
    let fix = format.fix.as_deref().unwrap();
    for way in [
        "audience=https://measurements.example/",
        "resource=https://measurements.example/",
        "default_audience",
        "infer_audience_from_scope",
        "customQueryParams",
    ] {
        assert!(fix.contains(way), "{way}: {fix}");
    }
}

#[test]
fn a_refusal_says_what_was_refused_and_the_fix() {
    let mut facts = event(&trace_for(Some(MEAS), "openid", &[]), "feccft");
    facts.description = "Unauthorized".into();
    facts.details = json!({
        "refusal": {
            "rule": "grant_type_not_enabled",
            "explanation": "Nightly Sync (m2m) may not use client_credentials.",
            "fix": "Enable the grant type."
        }
    });
    let lines = event_lines(&facts, &TenantApis::default());
    let refused = lines.iter().find(|l| l.topic == "refused").unwrap();
    assert_eq!(refused.tone, Tone::Refused);
    assert_eq!(
        refused.text,
        "Unauthorized. Nightly Sync (m2m) may not use client_credentials."
    );
    assert_eq!(refused.fix.as_deref(), Some("Enable the grant type."));
}

#[test]
fn durations_read_naturally() {
    assert_eq!(ago(1), "1 second");
    assert_eq!(ago(90), "90 seconds");
    assert_eq!(ago(3 * 60), "3 minutes");
    assert_eq!(ago(3 * 3600), "3 hours");
    assert_eq!(ago(9 * 86_400), "9 days");
    // A day-long token one second after issuance still reads as a day.
    assert_eq!(ago(86_400 - 1), "24 hours");
    assert_eq!(ago(86_400 - 1801), "23 hours");
}

struct Signed {
    token: String,
    key: KeyPair,
}

fn signed(claims: serde_json::Value) -> Signed {
    let key = KeyPair::generate(SigningAlg::ES256).unwrap();
    let token = sign_jwt(&key, "JWT", &claims).unwrap();
    Signed { token, key }
}

fn known(key: &KeyPair) -> Vec<KnownKey> {
    vec![KnownKey {
        kid: key.kid().into(),
        state: "current".into(),
        state_changed_at: 0,
        verifying: Some(key.verifying_key().clone()),
    }]
}

const NOW: i64 = 1_764_547_200;
const ISS: &str = "https://id.example/";

fn checked(token: &str, keys: &[KnownKey], audience: &AudienceKind) -> token::JwtReport {
    let (header, claims) = decode_unverified(token).unwrap();
    check_jwt(
        token,
        &header,
        &claims,
        &Tenant {
            issuer: ISS,
            keys,
            hs256_secret: None,
            audience,
            now: NOW,
        },
    )
}

fn api_audience() -> AudienceKind {
    AudienceKind::Api {
        identifier: MEAS.into(),
        name: "Measurements".into(),
    }
}

#[test]
fn a_good_access_token_passes_every_check() {
    let s = signed(json!({"iss": ISS, "aud": MEAS, "exp": NOW + 60}));
    let report = checked(&s.token, &known(&s.key), &api_audience());
    assert!(report.checks.iter().all(|c| c.holds), "{:?}", report.checks);
    assert!(report.mistakes.is_empty());
}

#[test]
fn mistakes_are_named() {
    let s = signed(json!({"iss": "https://id.example", "aud": "spa_client", "exp": NOW - 7_300}));
    let client = AudienceKind::Client {
        client_id: "spa_client".into(),
        name: "Angular SPA".into(),
    };
    let report = checked(&s.token, &known(&s.key), &client);
    let kinds: Vec<MistakeKind> = report.mistakes.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            MistakeKind::Expired,
            MistakeKind::OtherIssuer,
            MistakeKind::IdToken
        ]
    );
    let all: Vec<&str> = report.mistakes.iter().map(|m| m.message.as_str()).collect();
    assert!(all[0].contains("expired 2 hours ago"), "{all:?}");
    assert!(all[1].contains("https://id.example, not by this tenant (https://id.example/)"));
    assert!(all[1].contains("trailing slash"));
    assert!(report.mistakes[2]
        .fix
        .as_deref()
        .unwrap()
        .contains("Send the access token to your API"));

    let stranger = signed(json!({"iss": ISS, "aud": MEAS, "exp": NOW + 60}));
    let report = checked(&stranger.token, &known(&s.key), &api_audience());
    assert_eq!(report.mistakes[0].kind, MistakeKind::UnknownKey);
    assert!(report.mistakes[0]
        .message
        .contains("a key this tenant never had"));

    let mut tampered = s.token.clone();
    tampered.pop();
    tampered.push(if s.token.ends_with('A') { 'B' } else { 'A' });
    let report = checked(&tampered, &known(&s.key), &api_audience());
    assert!(!report.checks[0].holds);
}

#[test]
fn extreme_expiry_claims_never_overflow() {
    for exp in [i64::MIN, i64::MAX, 0] {
        let s = signed(json!({"iss": ISS, "aud": MEAS, "exp": exp}));
        let report = checked(&s.token, &known(&s.key), &api_audience());
        let expiry = report.checks.iter().find(|c| c.name == "expiry").unwrap();
        assert_eq!(expiry.holds, exp > NOW, "{exp}: {}", expiry.detail);
    }
}
