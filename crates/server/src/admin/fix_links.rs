//! Explanation lines with the dashboard page where each fix is made: the
//! user's roles, the API's permissions, the application's API access. Shared
//! by the log event page and "Why this token?".
//!
//! Which page a fix names follows from the rule that dropped the scope or
//! refused the request (the trace stored with the event, or the simulation's),
//! never from the wording of the fix.

use crate::state::AppState;
use gatehouse_core::explain::Line;
use gatehouse_core::grant::{RefusalRule, RefusalTrace, ScopeRule, Trace};
use gatehouse_store::StoreError;
use serde::Serialize;

/// The objects a decision was about, by their dashboard ids.
#[derive(Debug, Clone, Default)]
pub struct Places {
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    /// The chosen API's object id (not its identifier).
    pub api_id: Option<String>,
}

/// A link to the page where a fix is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixLink {
    pub href: String,
    pub label: &'static str,
}

/// An explanation line as the `explain_line` macro renders it.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedLine {
    #[serde(flatten)]
    pub line: Line,
    pub link: Option<FixLink>,
}

/// Where a fix is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    UserRoles,
    ApiPermissions,
    ApiSettings,
    ApplicationApis,
    ApplicationSettings,
    ApiList,
}

/// Each line with the link to its fix, when the fix is made on a page of
/// the dashboard and the object it concerns is known.
pub fn link_lines(
    lines: Vec<Line>,
    trace: Option<&Trace>,
    refusal: Option<&RefusalTrace>,
    places: &Places,
) -> Vec<LinkedLine> {
    lines
        .into_iter()
        .map(|line| {
            let link = line
                .fix
                .as_ref()
                .and_then(|_| place_of(&line.topic, trace, refusal))
                .and_then(|place| link_to(place, places));
            LinkedLine { line, link }
        })
        .collect()
}

fn place_of(topic: &str, trace: Option<&Trace>, refusal: Option<&RefusalTrace>) -> Option<Place> {
    if let Some(scope) = topic.strip_prefix("scope ") {
        return scope_place(trace?.scope(scope)?.rule);
    }
    match topic {
        "refused" | "note" => refusal_place(refusal?.rule),
        _ => None,
    }
}

fn scope_place(rule: ScopeRule) -> Option<Place> {
    match rule {
        ScopeRule::RbacMissingPermission | ScopeRule::SystemApiMissingPermission => {
            Some(Place::UserRoles)
        }
        ScopeRule::NotDefinedByApi => Some(Place::ApiPermissions),
        ScopeRule::NotInClientGrant | ScopeRule::AccessPolicy => Some(Place::ApplicationApis),
        ScopeRule::OfflineAccessNotAllowed => Some(Place::ApiSettings),
        ScopeRule::RefreshGrantNotEnabled => Some(Place::ApplicationSettings),
        _ => None,
    }
}

fn refusal_place(rule: RefusalRule) -> Option<Place> {
    match rule {
        RefusalRule::MissingClientGrant => Some(Place::ApplicationApis),
        RefusalRule::GrantTypeNotEnabled
        | RefusalRule::OriginNotAllowed
        | RefusalRule::ReturnToNotAllowed
        | RefusalRule::RedirectUriNotAllowed => Some(Place::ApplicationSettings),
        RefusalRule::OfflineAccessNotAllowed => Some(Place::ApiSettings),
        RefusalRule::UnknownAudience => Some(Place::ApiList),
        RefusalRule::RefreshTokenReused
        | RefusalRule::RefreshTokenInvalid
        | RefusalRule::DeniedByAction
        | RefusalRule::ActionFailed => None,
    }
}

fn link_to(place: Place, places: &Places) -> Option<FixLink> {
    let user = || places.user_id.as_deref().map(segment);
    let client = || places.client_id.as_deref().map(segment);
    let api = || places.api_id.as_deref().map(segment);
    let (href, label) = match place {
        Place::UserRoles => (
            format!("/admin/users/{}/roles", user()?),
            "Open the user's roles",
        ),
        Place::ApiPermissions => (
            format!("/admin/apis/{}/permissions", api()?),
            "Open the API's permissions",
        ),
        Place::ApiSettings => (format!("/admin/apis/{}", api()?), "Open the API"),
        Place::ApplicationApis => (
            format!("/admin/applications/{}/apis", client()?),
            "Open the application's API access",
        ),
        Place::ApplicationSettings => (
            format!("/admin/applications/{}", client()?),
            "Open the application",
        ),
        Place::ApiList => ("/admin/apis".to_string(), "Open the APIs"),
    };
    Some(FixLink { href, label })
}

/// The object id of the API a trace chose, for links to its pages.
pub async fn chosen_api_id(
    state: &AppState,
    trace: Option<&Trace>,
) -> Result<Option<String>, StoreError> {
    let Some(identifier) = trace.and_then(|t| t.audience.chosen.as_deref()) else {
        return Ok(None);
    };
    Ok(state
        .store()
        .resource_server_by_identifier(identifier)
        .await?
        .map(|api| api.id))
}

/// `text` as one path segment (user ids hold `|`).
pub fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::explain::Tone;
    use gatehouse_core::grant::{AudienceRule, AudienceTrace, ScopeTrace};

    fn trace(scopes: &[(&str, ScopeRule)]) -> Trace {
        let mut trace = Trace::audience_only(AudienceTrace {
            chosen: Some("https://api.example/".into()),
            rule: AudienceRule::AudienceParam,
            explanation: String::new(),
        });
        trace.scopes = scopes
            .iter()
            .map(|(scope, rule)| ScopeTrace {
                scope: scope.to_string(),
                granted: false,
                rule: *rule,
                explanation: String::new(),
                fix: Some("do something".into()),
                implied: false,
            })
            .collect();
        trace
    }

    fn line(topic: &str, fix: Option<&str>) -> Line {
        Line {
            topic: topic.into(),
            tone: Tone::Dropped,
            text: String::new(),
            fix: fix.map(str::to_string),
        }
    }

    fn places() -> Places {
        Places {
            user_id: Some("auth0|abc".into()),
            client_id: Some("cid".into()),
            api_id: Some("rs_1".into()),
        }
    }

    fn hrefs(lines: &[LinkedLine]) -> Vec<Option<&str>> {
        lines
            .iter()
            .map(|l| l.link.as_ref().map(|k| k.href.as_str()))
            .collect()
    }

    #[test]
    fn dropped_scopes_link_to_where_their_rule_is_changed() {
        let t = trace(&[
            ("read:x", ScopeRule::RbacMissingPermission),
            ("write:x", ScopeRule::NotDefinedByApi),
            ("read:y", ScopeRule::NotInClientGrant),
            ("profile", ScopeRule::OidcScope),
        ]);
        let lines = vec![
            line("scope read:x", Some("assign")),
            line("scope write:x", Some("define")),
            line("scope read:y", Some("grant")),
            line("scope profile", Some("odd")),
            line("scope unknown", Some("no trace entry")),
            line("audience", None),
        ];
        let linked = link_lines(lines, Some(&t), None, &places());
        assert_eq!(
            hrefs(&linked),
            [
                Some("/admin/users/auth0%7Cabc/roles"),
                Some("/admin/apis/rs_1/permissions"),
                Some("/admin/applications/cid/apis"),
                None,
                None,
                None,
            ]
        );
    }

    #[test]
    fn refusals_link_by_their_rule_and_unknown_objects_link_nowhere() {
        let refusal = RefusalTrace {
            rule: RefusalRule::MissingClientGrant,
            explanation: String::new(),
            fix: Some("grant".into()),
        };
        let lines = vec![line("refused", Some("grant")), line("refused", None)];
        let linked = link_lines(lines.clone(), None, Some(&refusal), &places());
        assert_eq!(hrefs(&linked), [Some("/admin/applications/cid/apis"), None]);
        let nobody = link_lines(lines, None, Some(&refusal), &Places::default());
        assert_eq!(hrefs(&nobody), [None, None]);
        let t = trace(&[("read:x", ScopeRule::RbacMissingPermission)]);
        let no_user = Places {
            user_id: None,
            ..places()
        };
        let linked = link_lines(
            vec![line("scope read:x", Some("assign"))],
            Some(&t),
            None,
            &no_user,
        );
        assert_eq!(hrefs(&linked), [None]);
    }
}
