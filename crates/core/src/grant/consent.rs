//! Whether the consent screen is needed (auth0-compat.md §4 "Consent").
//!
//! With an API, consent is needed when the client is third-party, the request sent
//! `prompt=consent`, a first-party client calls an API that does not allow skipping
//! consent, or the redirect URI is a loopback address (Gatehouse asks once even for
//! first-party apps there). With no API, only third-party clients (for the OIDC
//! scopes) and `prompt=consent` need it. In every case a stored consent that covers
//! all the granted scopes suffices, unless `prompt=consent` asks again, or a
//! third-party client asks for the Management API (the system API): there
//! consent is never skipped.
//! With `prompt=none` the HTTP layer turns a required consent into `consent_required`.

use super::trace::join_words;
use super::{client_label, DecisionInput};
use crate::scope::ScopeSet;

/// `(consent_required, note for the trace)`; `(false, None)` when consent is not evaluated.
pub(super) fn evaluate(
    input: &DecisionInput,
    user: &str,
    granted: &ScopeSet,
) -> (bool, Option<String>) {
    let Some(facts) = input.consent else {
        return (false, None);
    };
    let client = input.client;
    let label = client_label(client);
    let api = input.audience.api.as_ref();
    let mut reasons: Vec<String> = Vec::new();
    let third_party_management = !client.is_first_party && api.is_some_and(|a| a.is_system);
    if third_party_management {
        reasons.push(format!(
            "client {label} is a third-party application asking for the Management API, for \
             which consent is never skipped"
        ));
    } else if !client.is_first_party {
        reasons.push(match api {
            Some(_) => format!("client {label} is a third-party application"),
            None => format!(
                "client {label} is a third-party application asking for OpenID Connect scopes"
            ),
        });
    }
    if facts.prompt_consent {
        reasons.push("the request sent prompt=consent".into());
    }
    if let Some(api) = api {
        if client.is_first_party && !api.skip_consent_for_verifiable_first_party_clients {
            reasons.push(format!(
                "API {} does not let first-party applications skip consent \
                 (skip_consent_for_verifiable_first_party_clients is off)",
                api.identifier
            ));
        }
        if facts.loopback_redirect {
            reasons.push(
                "the redirect URI is a loopback address (localhost), where consent is never \
                 skipped"
                    .into(),
            );
        }
    }
    if reasons.is_empty() {
        let why = match api {
            Some(api) => format!(
                "client {label} is a first-party application and API {} lets first-party \
                 applications skip consent",
                api.identifier
            ),
            None => format!("client {label} is a first-party application and no API is involved"),
        };
        return (false, Some(format!("No consent screen: {why}.")));
    }
    let reasons = join_words(&reasons, "and");
    let listed = if granted.is_empty() {
        "no scopes".to_string()
    } else {
        granted.to_string()
    };
    let remembered = facts.consented.is_some_and(|c| granted.is_subset_of(c));
    if !facts.prompt_consent && !third_party_management && remembered {
        return (
            false,
            Some(format!(
                "Consent would be needed because {reasons}, but {user} already consented to every \
                 granted scope ({listed})."
            )),
        );
    }
    let mut note = format!(
        "Consent is required because {reasons}; the consent screen asks {user} for: {listed}."
    );
    if let Some(consented) = facts.consented {
        let missing: Vec<&str> = granted.iter().filter(|s| !consented.contains(s)).collect();
        if !missing.is_empty() {
            note.push_str(&format!(
                " The earlier consent did not cover {}.",
                join_words(&missing, "and")
            ));
        }
    }
    (true, Some(note))
}
