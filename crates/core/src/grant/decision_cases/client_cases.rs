//! Client credentials cases (auth0-compat.md §4 "Client credentials", §2 errors).

use super::*;
use crate::model::{ClientAccessPolicy, UserAccessPolicy};
use ScopeRule as R;

/// The M2M client with a client grant on the Measurements API.
fn granted(scopes: &'static [&'static str]) -> impl FnOnce(&mut World) {
    move |w: &mut World| {
        w.m2m();
        w.grant(MEAS, SubjectType::Client, scopes);
    }
}

fn cc(name: &'static str, scope: &'static str) -> Case {
    case(name, scope).flow(Flow::ClientCredentials)
}

pub fn client_credentials() -> Vec<Case> {
    vec![
        cc("cc_without_client_grant", "")
            .aud(MEAS)
            .world(World::m2m)
            .err(
                ErrorCode::AccessDenied,
                "Client is not authorized to access \"https://measurements.example/\". You need to create a \"client-grant\" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants",
            ),
        cc("cc_user_type_grant_does_not_count", "read:measurements")
            .aud(MEAS)
            .world(|w| {
                w.m2m();
                w.grant(MEAS, SubjectType::User, &["read:measurements"]);
            })
            .err_code(ErrorCode::AccessDenied)
            .rule("read:measurements", R::AccessPolicy, false)
            .mentions("Create a client grant for client m2m_client on API https://measurements.example/ (subject_type client)"),
        cc("cc_grant_no_scope_gets_all_grant_scopes", "")
            .aud(MEAS)
            .world(granted(&["read:measurements", "legacy:export"]))
            .audience_is(Some(MEAS), AudienceRule::AudienceParam)
            .scope_is("read:measurements legacy:export")
            .refresh(false)
            .id_token(false)
            .consent_required(false)
            .rule("legacy:export", R::ClientGrant, true)
            .format(jwt(SigningAlg::RS256, TokenDialect::AccessTokenAuthz, 86_400), 86_400),
        cc("cc_allow_all_scopes_no_scope", "")
            .aud(MEAS)
            .world(|w| {
                w.m2m();
                w.grant(MEAS, SubjectType::Client, &["legacy:export"]).allow_all_scopes = true;
            })
            .scope_is("legacy:export read:measurements write:measurements"),
        cc("cc_allow_all_scopes_covers_defined_scope", "write:measurements")
            .aud(MEAS)
            .world(|w| {
                w.m2m();
                w.grant(MEAS, SubjectType::Client, &[]).allow_all_scopes = true;
            })
            .scope_is("write:measurements")
            .mentions("allows every scope the API defines"),
        cc("cc_requested_subset_of_grant", "write:measurements")
            .aud(MEAS)
            .world(granted(&["read:measurements", "write:measurements"]))
            .scope_is("write:measurements")
            .rule("write:measurements", R::ClientGrant, true),
        cc("cc_requested_not_in_grant_is_refused", "read:measurements write:measurements delete:all")
            .aud(MEAS)
            .world(granted(&["read:measurements"]))
            .err(
                ErrorCode::AccessDenied,
                "Client has not been granted scopes: write:measurements, delete:all",
            )
            .rule("read:measurements", R::ClientGrant, true)
            .rule("write:measurements", R::NotInClientGrant, false)
            .mentions("Add delete:all to the scope of client grant cgr_1"),
        cc("cc_oidc_scopes_are_not_in_grants", "openid read:measurements")
            .aud(MEAS)
            .world(granted(&["read:measurements"]))
            .err(ErrorCode::AccessDenied, "Client has not been granted scopes: openid"),
        cc("cc_client_policy_deny_all", "read:measurements")
            .aud(MEAS)
            .world(granted(&["read:measurements"]))
            .world(|w| {
                w.api(MEAS).subject_type_authorization.client.policy = ClientAccessPolicy::DenyAll
            })
            .err(
                ErrorCode::AccessDenied,
                "Client access to \"https://measurements.example/\" is denied by the API's access policy.",
            )
            .rule("read:measurements", R::AccessPolicy, false),
        cc("cc_user_policy_deny_all_does_not_apply", "read:measurements")
            .aud(MEAS)
            .world(granted(&["read:measurements"]))
            .world(|w| {
                w.api(MEAS).subject_type_authorization.user.policy = UserAccessPolicy::DenyAll
            })
            .scope_is("read:measurements"),
        cc("cc_without_audience", "read:measurements")
            .world(granted(&["read:measurements"]))
            .err(ErrorCode::AccessDenied, NO_AUDIENCE_PROVIDED)
            .rule("read:measurements", R::NoAudience, false),
        cc("cc_default_audience_applies", "")
            .world(granted(&["read:measurements"]))
            .world(|w| w.tenant.default_audience = Some(MEAS.into()))
            .audience_is(Some(MEAS), AudienceRule::TenantDefault)
            .scope_is("read:measurements"),
        cc("cc_resource_param", "")
            .resource(MEAS)
            .world(granted(&["read:measurements"]))
            .audience_is(Some(MEAS), AudienceRule::ResourceParam),
        cc("cc_inferred_audience", "read:measurements")
            .world(granted(&["read:measurements"]))
            .world(|w| w.tenant.infer_audience_from_scope = true)
            .audience_is(Some(MEAS), AudienceRule::InferredFromScope)
            .scope_is("read:measurements"),
        cc("cc_unknown_audience", "")
            .aud("https://nope.example/")
            .world(World::m2m)
            .err(ErrorCode::AccessDenied, "Service not found: https://nope.example/"),
        cc("cc_rbac_does_not_apply_permissions_repeat_scopes", "write:measurements read:measurements")
            .aud(MEAS)
            .world(granted(&["read:measurements", "write:measurements"]))
            .scope_is("write:measurements read:measurements")
            .perms(&["read:measurements", "write:measurements"])
            .mentions("repeats the granted scopes"),
        cc("cc_plain_dialect_no_permissions", "")
            .aud(MYAPI)
            .world(|w| {
                w.m2m();
                w.grant(MYAPI, SubjectType::Client, &["myscope"]);
            })
            .scope_is("myscope")
            .no_perms()
            .format(jwt(SigningAlg::RS256, TokenDialect::AccessToken, 86_400), 86_400),
        cc("cc_third_party_default_grant_applies", "myscope")
            .aud(MYAPI)
            .world(|w| {
                w.m2m();
                w.third_party();
                let g = w.grant(MYAPI, SubjectType::Client, &["myscope"]);
                g.client_id = None;
                g.default_for = Some("third_party_clients".into());
            })
            .scope_is("myscope"),
        cc("cc_other_clients_grant_does_not_apply", "myscope")
            .aud(MYAPI)
            .world(|w| {
                w.m2m();
                w.grant(MYAPI, SubjectType::Client, &["myscope"]).client_id =
                    Some("someone_else".into());
            })
            .err_code(ErrorCode::AccessDenied),
    ]
}
