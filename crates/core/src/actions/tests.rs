//! The Auth0 rules of Actions on recorded calls, with the quickstart Actions.

use serde_json::{json, Value};

use super::*;
use crate::explain::{decision_lines, TenantApis, Tone};
use crate::grant::{
    AudienceRule, AudienceTrace, Decision, RefusalRule, ScopeRule, ScopeTrace, TokenFormat, Trace,
};
use crate::scope::ScopeSet;

fn call(method: &str, args: Value) -> ApiCall {
    ApiCall {
        method: method.into(),
        args: args.as_array().cloned().unwrap_or_default(),
    }
}

fn run(trigger: Trigger, action: &str, calls: &[ApiCall]) -> Effects {
    let mut effects = Effects::default();
    effects.apply(action, trigger, calls).expect("supported");
    effects
}

fn texts(effects: &Effects) -> Vec<&str> {
    effects.notes.iter().map(|n| n.text.as_str()).collect()
}

const NS: &str = "https://measurements.example/roles";

fn decision(scope: &str) -> Decision {
    let scopes = ScopeSet::parse(scope);
    let traces = scopes
        .iter()
        .map(|s| ScopeTrace {
            scope: s.to_string(),
            granted: true,
            rule: if crate::scope::is_oidc_scope(s) {
                ScopeRule::OidcScope
            } else {
                ScopeRule::RbacPermission
            },
            explanation: format!("{s} granted."),
            fix: None,
            implied: false,
        })
        .collect();
    let mut trace = Trace::audience_only(AudienceTrace {
        chosen: Some("https://measurements.example".into()),
        rule: AudienceRule::AudienceParam,
        explanation: "The audience parameter names it.".into(),
    });
    trace.scopes = traces;
    Decision {
        audience: Some("https://measurements.example".into()),
        api_scopes: scopes
            .iter()
            .filter(|s| !crate::scope::is_oidc_scope(s))
            .collect(),
        scope: scopes,
        permissions: None,
        token_format: TokenFormat::Opaque,
        expires_in: 86_400,
        issue_refresh_token: false,
        issue_id_token: true,
        consent_required: false,
        trace,
    }
}

#[test]
fn actions_quickstart_roles_in_both_tokens() {
    let roles = json!(["admin", "viewer"]);
    let effects = run(
        Trigger::PostLogin,
        "Add roles",
        &[
            call("accessToken.setCustomClaim", json!([NS, roles])),
            call("idToken.setCustomClaim", json!([NS, roles])),
        ],
    );
    assert_eq!(effects.access_token_claims[NS], roles);
    assert_eq!(effects.id_token_claims[NS], roles);
    assert!(effects.denied.is_none());
    for (note, token) in effects.notes.iter().zip(["access token", "ID token"]) {
        assert_eq!(note.kind, NoteKind::ClaimSet);
        assert_eq!(
            note.text,
            format!("{token} claim {NS} set by the Action 'Add roles'")
        );
    }

    let mut claims = json!({"sub": "auth0|1", "aud": "x"});
    merge_custom_claims(&mut claims, &effects.access_token_claims);
    assert_eq!(claims[NS], roles);
}

#[test]
fn actions_quickstart_deny_unverified_email() {
    let mut effects = run(
        Trigger::PostLogin,
        "Require verified email",
        &[
            call("accessToken.setCustomClaim", json!([NS, ["admin"]])),
            call("access.deny", json!(["Please verify your email first."])),
            call("idToken.setCustomClaim", json!([NS, ["admin"]])),
        ],
    );
    let denial = effects.denied.clone().expect("denied");
    assert_eq!(denial.reason, "Please verify your email first.");
    assert_eq!(denial.error_code, None);
    assert!(
        effects.id_token_claims.is_empty(),
        "nothing after the denial"
    );
    let sentence = "denied by the Action 'Require verified email': Please verify your email first.";
    assert_eq!(effects.notes.last().unwrap().text, sentence);
    let refusal = effects.denial_refusal().expect("refusal");
    assert_eq!(refusal.rule, RefusalRule::DeniedByAction);
    assert_eq!(refusal.explanation, sentence);
    assert!(refusal.fix.unwrap().contains("'Require verified email'"));

    // A later Action in the flow is not applied.
    effects
        .apply(
            "Later",
            Trigger::PostLogin,
            &[
                call("access.deny", json!(["other"])),
                call("redirect.sendUserTo", json!(["https://x.example"])),
            ],
        )
        .unwrap();
    assert_eq!(effects.denied.unwrap().action, "Require verified email");
}

#[test]
fn actions_quickstart_m2m_claim_via_credentials_exchange() {
    let effects = run(
        Trigger::CredentialsExchange,
        "Add M2M claim",
        &[call(
            "accessToken.setCustomClaim",
            json!(["https://measurements.example/tier", "gold"]),
        )],
    );
    assert_eq!(
        effects.access_token_claims["https://measurements.example/tier"],
        "gold"
    );
    let mut claims = json!({"sub": "client@clients", "gty": "client-credentials"});
    merge_custom_claims(&mut claims, &effects.access_token_claims);
    assert_eq!(claims["https://measurements.example/tier"], "gold");
}

#[test]
fn actions_credentials_exchange_deny_with_code() {
    let effects = run(
        Trigger::CredentialsExchange,
        "Block",
        &[call("access.deny", json!(["invalid_scope", "Not today"]))],
    );
    let denial = effects.denied.unwrap();
    assert_eq!(denial.error_code.as_deref(), Some("invalid_scope"));
    assert_eq!(denial.reason, "Not today");

    let one_arg = run(
        Trigger::CredentialsExchange,
        "Block",
        &[call("access.deny", json!(["Not today"]))],
    );
    assert_eq!(one_arg.denied.as_ref().unwrap().reason, "Not today");
    assert_eq!(one_arg.denied.unwrap().error_code, None);

    let code_alone = run(
        Trigger::CredentialsExchange,
        "Block",
        &[call("access.deny", json!(["server_error"]))],
    );
    let denial = code_alone.denied.unwrap();
    assert_eq!(denial.error_code.as_deref(), Some("server_error"));
    assert_eq!(denial.reason, "");

    let unknown_code = run(
        Trigger::CredentialsExchange,
        "Block",
        &[call("access.deny", json!(["made_up", "No"]))],
    );
    assert_eq!(unknown_code.denied.unwrap().error_code, None);
}

#[test]
fn actions_pre_user_registration_denials() {
    let effects = run(
        Trigger::PreUserRegistration,
        "Domain",
        &[call(
            "access.deny",
            json!(["bad domain", "Use your work email."]),
        )],
    );
    let denial = effects.denied.unwrap();
    assert_eq!(denial.reason, "bad domain");
    assert_eq!(denial.user_message.as_deref(), Some("Use your work email."));

    let effects = run(
        Trigger::PreUserRegistration,
        "Validate",
        &[
            call("validation.error", json!(["email", "Use your work email."])),
            call("user.setAppMetadata", json!(["plan", "pro"])),
        ],
    );
    let denial = effects.denied.unwrap();
    assert_eq!(denial.reason, "Use your work email.");
    assert!(effects.app_metadata.is_empty());
}

#[test]
fn actions_every_restricted_claim_is_refused() {
    for name in RESTRICTED_CLAIMS {
        for method in ["accessToken.setCustomClaim", "idToken.setCustomClaim"] {
            let effects = run(Trigger::PostLogin, "X", &[call(method, json!([name, "v"]))]);
            assert!(effects.access_token_claims.is_empty(), "{name}");
            assert!(effects.id_token_claims.is_empty(), "{name}");
            assert_eq!(effects.notes[0].kind, NoteKind::ClaimRefused);
            assert!(
                effects.notes[0].text.ends_with(&format!(
                    "claim {name} refused: it is a restricted claim Auth0 does not let an \
                     Action set (Action 'X')"
                )),
                "{}",
                effects.notes[0].text
            );
        }
    }
    for name in [
        "sub",
        "aud",
        "iss",
        "exp",
        "iat",
        "nbf",
        "jti",
        "azp",
        "scope",
        "permissions",
        "gty",
        "org_id",
        "org_name",
        "roles",
        "groups",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "sid",
        "at_hash",
        "c_hash",
        "cnf",
        "client_id",
    ] {
        assert!(is_restricted_claim(name), "{name}");
    }
}

#[test]
fn actions_oidc_standard_claims_refused_in_id_token_only() {
    for name in OIDC_STANDARD_CLAIMS {
        let effects = run(
            Trigger::PostLogin,
            "X",
            &[
                call("idToken.setCustomClaim", json!([name, "v"])),
                call("accessToken.setCustomClaim", json!([name, "v"])),
            ],
        );
        assert!(effects.id_token_claims.is_empty(), "{name}");
        assert_eq!(effects.notes[0].kind, NoteKind::ClaimRefused);
        assert_eq!(effects.access_token_claims[*name], "v");
    }
}

#[test]
fn actions_auth0_namespaces_refused() {
    for name in [
        "https://example.auth0.com/x",
        "https://auth0.com/y",
        "http://AUTH0.COM./z",
        "https://user@tenant.eu.auth0.com:443/x",
    ] {
        let effects = run(
            Trigger::PostLogin,
            "X",
            &[call("accessToken.setCustomClaim", json!([name, 1]))],
        );
        assert!(effects.access_token_claims.is_empty(), "{name}");
        assert!(effects.notes[0].text.contains("auth0.com namespace"));
    }
    for name in [
        "https://myauth0.com.example/",
        "https://auth0.com.example/x",
        "https://notauth0.com/x",
        "auth0.com",
        "myClaim",
    ] {
        assert!(!is_auth0_namespace(name), "{name}");
        let effects = run(
            Trigger::PostLogin,
            "X",
            &[call("accessToken.setCustomClaim", json!([name, 1]))],
        );
        assert_eq!(effects.access_token_claims[name], 1, "{name}");
    }
}

#[test]
fn actions_custom_claims_size_cap_per_token() {
    let big = "x".repeat(60 * 1024);
    let effects = run(
        Trigger::PostLogin,
        "Big",
        &[
            call("accessToken.setCustomClaim", json!(["a", big])),
            call("accessToken.setCustomClaim", json!(["b", big])),
            // Replacing a claim counts its new size only.
            call("accessToken.setCustomClaim", json!(["a", "small"])),
            call("accessToken.setCustomClaim", json!(["b", big])),
            // The ID token has its own budget.
            call("idToken.setCustomClaim", json!(["a", big])),
        ],
    );
    assert_eq!(effects.access_token_claims["a"], "small");
    assert_eq!(effects.access_token_claims["b"], big);
    assert_eq!(effects.id_token_claims["a"], big);
    assert_eq!(effects.notes[1].kind, NoteKind::ClaimRefused);
    assert!(effects.notes[1].text.contains("102400 bytes"));
    assert!(effects.notes[2]
        .text
        .ends_with(", replacing the value set before"));
    assert_eq!(effects.notes[3].kind, NoteKind::ClaimSet);
}

#[test]
fn actions_later_set_overwrites() {
    let effects = run(
        Trigger::PostLogin,
        "X",
        &[
            call("accessToken.setCustomClaim", json!(["tier", "silver"])),
            call("accessToken.setCustomClaim", json!(["tier", "gold"])),
        ],
    );
    assert_eq!(effects.access_token_claims["tier"], "gold");
    assert!(effects.notes[1].text.contains("replacing"));
}

#[test]
fn actions_add_and_remove_scopes_on_a_decision() {
    let effects = run(
        Trigger::PostLogin,
        "Trim scopes",
        &[
            call("accessToken.removeScope", json!(["write:measurements"])),
            call("accessToken.addScope", json!(["read:x"])),
            call("accessToken.addScope", json!(["delete:x"])),
            call("accessToken.removeScope", json!(["delete:x"])),
            call("accessToken.removeScope", json!(["never:granted"])),
        ],
    );
    assert_eq!(
        effects
            .scopes_added
            .iter()
            .map(|c| c.scope.as_str())
            .collect::<Vec<_>>(),
        ["read:x"]
    );
    let mut d = decision("openid read:measurements write:measurements");
    effects.apply_to_decision(&mut d);
    assert_eq!(d.scope.to_string(), "openid read:measurements read:x");
    assert_eq!(d.api_scopes.to_string(), "read:measurements read:x");

    let removed = d.trace.scope("write:measurements").unwrap();
    assert!(!removed.granted);
    assert_eq!(removed.rule, ScopeRule::RemovedByAction);
    assert_eq!(
        removed.explanation,
        "scope write:measurements removed by the Action 'Trim scopes'"
    );
    assert!(removed.fix.as_deref().unwrap().contains("'Trim scopes'"));
    let added = d.trace.scope("read:x").unwrap();
    assert!(added.granted);
    assert_eq!(added.rule, ScopeRule::AddedByAction);
    assert_eq!(
        added.explanation,
        "scope read:x added by the Action 'Trim scopes'"
    );
    assert!(d.trace.scope("delete:x").is_none());
    assert!(d.trace.scope("never:granted").is_none());
    assert_eq!(d.trace.actions, effects.notes);
}

#[test]
fn actions_added_oidc_scope_is_not_an_api_scope() {
    let effects = run(
        Trigger::PostLogin,
        "X",
        &[call("accessToken.addScope", json!(["email"]))],
    );
    let mut d = decision("openid read:measurements");
    effects.apply_to_decision(&mut d);
    assert_eq!(d.scope.to_string(), "openid read:measurements email");
    assert_eq!(d.api_scopes.to_string(), "read:measurements");
}

#[test]
fn actions_metadata_merge_with_null_removal() {
    let effects = run(
        Trigger::PostLogin,
        "Plan",
        &[
            call("user.setAppMetadata", json!(["plan", "pro"])),
            call("user.setAppMetadata", json!(["trial", null])),
            call("user.setUserMetadata", json!(["theme", {"dark": true}])),
            call("user.setUserMetadata", json!(["theme", "light"])),
            call("user.setUserMetadata", json!(["gone"])),
        ],
    );
    assert_eq!(
        Value::Object(effects.app_metadata.clone()),
        json!({"plan": "pro", "trial": null})
    );
    assert_eq!(
        Value::Object(effects.user_metadata.clone()),
        json!({"theme": "light", "gone": null})
    );
    assert_eq!(
        texts(&effects)[..2],
        [
            "app_metadata.plan set to \"pro\" by the Action 'Plan'",
            "app_metadata.trial removed by the Action 'Plan'"
        ]
    );
    assert!(effects
        .notes
        .iter()
        .all(|n| n.kind == NoteKind::MetadataSet));
}

#[test]
fn actions_unsupported_methods_per_trigger() {
    let cases: &[(Trigger, &[&str])] = &[
        (
            Trigger::PostLogin,
            &[
                "redirect.sendUserTo",
                "multifactor.enable",
                "authentication.challengeWith",
                "session.revoke",
                "samlResponse.setAttribute",
                "refreshToken.revoke",
                "validation.error",
            ],
        ),
        (
            Trigger::CredentialsExchange,
            &[
                "idToken.setCustomClaim",
                "accessToken.addScope",
                "user.setAppMetadata",
                "redirect.sendUserTo",
            ],
        ),
        (
            Trigger::PreUserRegistration,
            &[
                "accessToken.setCustomClaim",
                "idToken.setCustomClaim",
                "multifactor.enable",
            ],
        ),
    ];
    for (trigger, methods) in cases {
        for method in *methods {
            let mut effects = Effects::default();
            let err = effects
                .apply("Fancy", *trigger, &[call(method, json!(["x", "y"]))])
                .unwrap_err();
            assert_eq!(err.method, *method);
            assert_eq!(
                err.to_string(),
                format!(
                    "The Action 'Fancy' called api.{method}, which Gatehouse does not support yet"
                )
            );
        }
    }
}

#[test]
fn actions_bad_arguments_are_ignored_with_a_note() {
    let effects = run(
        Trigger::PostLogin,
        "Sloppy",
        &[
            call("accessToken.setCustomClaim", json!([42, "v"])),
            call("idToken.setCustomClaim", json!([])),
            call("accessToken.setCustomClaim", json!(["", "v"])),
            call("accessToken.addScope", json!([null])),
            call("accessToken.addScope", json!(["a b"])),
            call("accessToken.removeScope", json!([""])),
            call("user.setAppMetadata", json!([{"k": 1}, "v"])),
            call("user.setUserMetadata", json!([""])),
        ],
    );
    assert!(effects.access_token_claims.is_empty());
    assert!(effects.id_token_claims.is_empty());
    assert!(effects.scopes_added.is_empty() && effects.scopes_removed.is_empty());
    assert!(effects.app_metadata.is_empty() && effects.user_metadata.is_empty());
    assert_eq!(effects.notes.len(), 8);
    assert!(effects
        .notes
        .iter()
        .all(|n| n.kind == NoteKind::ClaimRefused && n.text.contains(" ignored: ")));
    assert_eq!(
        effects.notes[0].text,
        "api.accessToken.setCustomClaim ignored: the claim name must be a string (Action 'Sloppy')"
    );
    // A denial with odd arguments still denies.
    let effects = run(Trigger::PostLogin, "D", &[call("access.deny", json!([]))]);
    assert_eq!(effects.denied.unwrap().reason, "");
    assert_eq!(
        texts(&run(
            Trigger::PostLogin,
            "D",
            &[call("access.deny", json!([7]))]
        )),
        ["denied by the Action 'D': 7"]
    );
}

#[test]
fn actions_failure_note_and_refusal() {
    let mut effects = Effects::default();
    assert!(effects.is_empty());
    effects.record_failure("Loop", "Action timed out after 20 seconds");
    assert!(!effects.is_empty());
    assert_eq!(effects.notes[0].kind, NoteKind::Failed);
    assert_eq!(
        effects.notes[0].text,
        "the Action 'Loop' failed: Action timed out after 20 seconds"
    );
    let refusal = action_failed_refusal("Loop", "Action timed out after 20 seconds");
    assert_eq!(refusal.rule, RefusalRule::ActionFailed);
    assert_eq!(refusal.explanation, effects.notes[0].text);
    assert!(refusal
        .fix
        .unwrap()
        .starts_with("Fix the Action 'Loop' or remove it"));
    let named = action_failed_refusal_in(Trigger::PostLogin, "Loop", "boom");
    assert!(named.fix.unwrap().contains("post-login flow"));
}

#[test]
fn actions_trace_without_actions_still_deserializes() {
    let old = json!({
        "audience": {"chosen": null, "rule": "userinfo_only", "explanation": "none"},
        "scopes": [],
        "refresh_token": null,
        "permissions_note": null,
        "consent": null
    });
    let trace: Trace = serde_json::from_value(old).expect("old trace");
    assert!(trace.actions.is_empty());
    // An empty list is not written.
    assert!(serde_json::to_value(&trace)
        .unwrap()
        .get("actions")
        .is_none());
}

#[test]
fn actions_trace_display_and_explain_lines_show_the_notes() {
    let effects = run(
        Trigger::PostLogin,
        "Add roles",
        &[
            call("accessToken.setCustomClaim", json!([NS, ["admin"]])),
            call("accessToken.setCustomClaim", json!(["sub", "me"])),
            call("accessToken.removeScope", json!(["write:measurements"])),
        ],
    );
    let mut d = decision("read:measurements write:measurements");
    effects.apply_to_decision(&mut d);

    let stored = serde_json::to_value(&d.trace).unwrap();
    assert_eq!(stored["actions"][0]["kind"], "claim_set");
    let back: Trace = serde_json::from_value(stored).unwrap();
    assert_eq!(back, d.trace);

    let text = d.trace.to_string();
    assert!(text.contains(&format!(
        "action: access token claim {NS} set by the Action 'Add roles'\n"
    )));
    assert!(text.contains("action: access token claim sub refused"));
    assert!(text.contains("scope write:measurements: dropped (removed_by_action)"));

    let lines = decision_lines(None, None, Some(&d.trace), &TenantApis::default());
    let actions: Vec<_> = lines.iter().filter(|l| l.topic == "action").collect();
    assert_eq!(actions.len(), 3);
    assert_eq!(actions[0].tone, Tone::Info);
    assert_eq!(actions[1].tone, Tone::Dropped);
    assert_eq!(actions[2].tone, Tone::Dropped);
    let scope_line = lines
        .iter()
        .find(|l| l.topic == "scope write:measurements")
        .unwrap();
    assert!(scope_line
        .text
        .starts_with("dropped (removed by an Action)"));
}

#[test]
fn actions_denial_shows_in_refused_explanation() {
    let effects = run(
        Trigger::PostLogin,
        "Require verified email",
        &[call(
            "access.deny",
            json!(["Please verify your email first."]),
        )],
    );
    let mut trace = decision("openid").trace;
    trace.actions = effects.notes.clone();
    let refusal = effects.denial_refusal().unwrap();
    let lines = decision_lines(
        Some("Please verify your email first."),
        Some(&refusal),
        Some(&trace),
        &TenantApis::default(),
    );
    assert_eq!(lines[0].topic, "refused");
    assert!(lines[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("Require verified email"));
    let action = lines.iter().find(|l| l.topic == "action").unwrap();
    assert_eq!(action.tone, Tone::Refused);
    assert_eq!(
        action.text,
        "denied by the Action 'Require verified email': Please verify your email first."
    );
}

#[test]
fn actions_claim_size_is_counted_without_copying_the_claims() {
    use super::claims::{serialized_size, size_with};
    let mut claims = serde_json::Map::new();
    for (name, value) in [
        ("a", json!("x")),
        ("b\"q", json!({"nested": [1, 2, "é"]})),
        ("a", json!(["longer", "value"])),
        ("c", Value::Null),
        ("a", json!(1)),
    ] {
        let predicted = size_with(serialized_size(&claims), &claims, name, &value);
        claims.insert(name.to_string(), value);
        assert_eq!(predicted, serialized_size(&claims), "{name}");
        assert_eq!(predicted, serde_json::to_vec(&claims).unwrap().len());
    }
}

#[test]
fn actions_many_claim_calls_past_the_cap_stay_cheap() {
    // 1000 calls (the engine's limit per execution) against a full budget.
    let filler: Vec<ApiCall> = (0..1000)
        .map(|i| {
            call(
                "accessToken.setCustomClaim",
                json!([format!("claim{i}"), "v".repeat(200)]),
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let mut effects = Effects::default();
    for _ in 0..5 {
        effects.apply("Flood", Trigger::PostLogin, &filler).unwrap();
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        serde_json::to_vec(&effects.access_token_claims)
            .unwrap()
            .len()
            <= MAX_CUSTOM_CLAIMS_BYTES
    );
}

#[test]
fn actions_a_huge_denial_reason_is_cut() {
    let effects = run(
        Trigger::PreUserRegistration,
        "Long",
        &[call(
            "access.deny",
            json!(["é".repeat(5000), "m".repeat(5000)]),
        )],
    );
    let denial = effects.denied.unwrap();
    assert_eq!(denial.reason.chars().count(), effects::MAX_REASON_CHARS + 1);
    assert!(denial.reason.ends_with('…'));
    assert_eq!(
        denial.user_message.unwrap().chars().count(),
        effects::MAX_REASON_CHARS + 1
    );
}

#[test]
fn actions_long_names_and_scopes_are_kept_out_of_notes_and_tokens() {
    let long = "n".repeat(200 * 1024);
    let scope = "s".repeat(effects::MAX_SCOPE_CHARS + 1);
    let effects = run(
        Trigger::PostLogin,
        "Long",
        &[
            call("accessToken.setCustomClaim", json!([long, 1])),
            call("user.setAppMetadata", json!([long, 1])),
            call("accessToken.addScope", json!([scope])),
        ],
    );
    assert!(effects.access_token_claims.is_empty());
    assert!(effects.scopes_added.is_empty());
    assert_eq!(effects.notes[2].kind, NoteKind::ClaimRefused);
    for note in &effects.notes {
        assert!(note.text.len() < 1000, "{}", &note.text[..300]);
    }
}
