//! User-flow cases: audience choice, RBAC, access policies, offline access,
//! password grant, consent, token format (auth0-compat.md §3–§4; SPEC.md §1).

use super::*;
use crate::model::UserAccessPolicy;
use AudienceRule as A;
use ScopeRule as R;

const SEED: &str = "openid profile email read:measurements";

pub fn audience_choice() -> Vec<Case> {
    vec![
        case(
            "seed_001_no_audience_opaque_custom_scope_dropped",
            "openid profile email myscope",
        )
        .audience_is(None, A::UserinfoOnly)
        .scope_is("openid profile email")
        .format(TokenFormat::Opaque, 86_400)
        .id_token(true)
        .no_perms()
        .rule("openid", R::OidcScope, true)
        .rule("myscope", R::NoAudience, false)
        .mentions("no API audience was chosen")
        .mentions("Pass audience=https://myapi.example (or resource=https://myapi.example)")
        .mentions("turn on the tenant setting infer_audience_from_scope"),
        case(
            "seed_001_resource_param_gives_jwt",
            "openid profile email myscope",
        )
        .resource(MYAPI)
        .audience_is(Some(MYAPI), A::ResourceParam)
        .scope_is("openid profile email myscope")
        .format(
            jwt(SigningAlg::RS256, TokenDialect::AccessToken, 86_400),
            86_400,
        )
        .rule("myscope", R::RbacOff, true)
        .mentions("resource parameter (RFC 8707"),
        case(
            "seed_001_infer_audience_from_scope",
            "openid profile email myscope",
        )
        .world(|w| w.tenant.infer_audience_from_scope = true)
        .audience_is(Some(MYAPI), A::InferredFromScope)
        .scope_is("openid profile email myscope")
        .format(
            jwt(SigningAlg::RS256, TokenDialect::AccessToken, 86_400),
            86_400,
        )
        .mentions("is the only API that defines all the requested custom scopes (myscope)"),
        case("infer_two_matching_apis_gives_none", "openid shared:scope")
            .world(|w| {
                w.tenant.infer_audience_from_scope = true;
                w.api(MYAPI).scopes.push(ScopeDefinition {
                    value: "shared:scope".into(),
                    description: String::new(),
                });
            })
            .audience_is(None, A::UserinfoOnly)
            .scope_is("openid")
            .format(TokenFormat::Opaque, 86_400)
            .rule("shared:scope", R::NoAudience, false)
            .mentions("several APIs define all the requested custom scopes")
            .mentions("Several APIs define shared:scope"),
        case("infer_no_api_defines_scope", "openid nosuch:scope")
            .world(|w| w.tenant.infer_audience_from_scope = true)
            .audience_is(None, A::UserinfoOnly)
            .rule("nosuch:scope", R::NoAudience, false)
            .mentions("no API defines all the requested custom scopes")
            .mentions("No known API defines nosuch:scope"),
        case(
            "infer_needs_one_api_for_all_scopes",
            "openid myscope read:measurements",
        )
        .world(|w| w.tenant.infer_audience_from_scope = true)
        .audience_is(None, A::UserinfoOnly)
        .scope_is("openid"),
        case("infer_never_picks_the_management_api", "openid read:users")
            .world(|w| w.tenant.infer_audience_from_scope = true)
            .audience_is(None, A::UserinfoOnly)
            .scope_is("openid"),
        case(
            "infer_without_custom_scopes_is_userinfo",
            "openid profile offline_access",
        )
        .world(|w| w.tenant.infer_audience_from_scope = true)
        .audience_is(None, A::UserinfoOnly)
        .mentions("names no custom scope to infer an API from"),
        case("default_audience_applies", "openid myscope")
            .world(|w| w.tenant.default_audience = Some(MYAPI.into()))
            .audience_is(Some(MYAPI), A::TenantDefault)
            .scope_is("openid myscope"),
        case("audience_param_beats_default_audience", "openid myscope")
            .world(|w| w.tenant.default_audience = Some(OTHER.into()))
            .aud(MYAPI)
            .audience_is(Some(MYAPI), A::AudienceParam),
        case("empty_audience_param_counts_as_absent", "openid myscope")
            .aud("")
            .audience_is(None, A::UserinfoOnly),
        case("unknown_audience_service_not_found", "openid")
            .aud("https://nope.example/")
            .err(
                ErrorCode::AccessDenied,
                "Service not found: https://nope.example/",
            )
            .audience_rule(A::AudienceParam),
        case("unknown_resource_service_not_found", "openid")
            .resource("https://nope.example/")
            .err(
                ErrorCode::AccessDenied,
                "Service not found: https://nope.example/",
            )
            .audience_rule(A::ResourceParam),
        case("trailing_slash_matters", SEED)
            .aud("https://measurements.example")
            .err(
                ErrorCode::AccessDenied,
                "Service not found: https://measurements.example",
            )
            .mentions("Did you mean API https://measurements.example/ (Measurements)?"),
        case("unknown_default_audience_service_not_found", "openid")
            .world(|w| w.tenant.default_audience = Some("https://gone.example/".into()))
            .err(
                ErrorCode::AccessDenied,
                "Service not found: https://gone.example/",
            )
            .audience_rule(A::TenantDefault),
        case(
            "oidc_scopes_survive_without_api",
            "openid profile email address phone",
        )
        .scope_is("openid profile email address phone")
        .rule("address", R::OidcScope, true)
        .rule("phone", R::OidcScope, true)
        .id_token(true),
        case("no_openid_no_id_token", "profile email")
            .scope_is("profile email")
            .id_token(false),
        case(
            "scope_not_defined_by_api_is_dropped",
            "openid read:measurements",
        )
        .aud(MYAPI)
        .scope_is("openid")
        .rule("read:measurements", R::NotDefinedByApi, false)
        .mentions("API https://myapi.example does not define scope read:measurements")
        .mentions("request audience=https://measurements.example/ instead"),
    ]
}

pub fn rbac() -> Vec<Case> {
    vec![
        case("seed_000_rbac_user_without_permission", SEED)
            .aud(MEAS)
            .world(|w| w.role_grants("read:measurements", &["reader"]))
            .scope_is("openid profile email")
            .perms(&[])
            .refresh(false)
            .id_token(true)
            .format(jwt(SigningAlg::RS256, TokenDialect::AccessTokenAuthz, 86_400), 86_400)
            .rule("read:measurements", R::RbacMissingPermission, false)
            .mentions("bob@example.com has no permission read:measurements on API https://measurements.example/")
            .mentions("Assign the role reader or the permission read:measurements to bob@example.com.")
            .mentions("bob@example.com has none."),
        case("seed_000_rbac_user_with_role_reader", SEED)
            .aud(MEAS)
            .world(|w| w.permit("read:measurements", &["reader"]))
            .scope_is("openid profile email read:measurements")
            .perms(&["read:measurements"])
            .rule("read:measurements", R::RbacPermission, true)
            .mentions("bob@example.com has the permission read:measurements on API https://measurements.example/ through the role reader"),
        case("rbac_missing_permission_no_role_grants_it", SEED)
            .aud(MEAS)
            .scope_is("openid profile email")
            .mentions("Create a role with the permission read:measurements on API https://measurements.example/ and assign it to bob@example.com, or assign the permission to bob@example.com directly."),
        case("rbac_missing_permission_several_roles", SEED)
            .aud(MEAS)
            .world(|w| w.role_grants("read:measurements", &["reader", "admin"]))
            .mentions("Assign one of the roles reader or admin, or the permission read:measurements, to bob@example.com."),
        case("rbac_direct_and_role_sources", SEED)
            .aud(MEAS)
            .world(|w| w.permit("read:measurements", &[]))
            .world(|w| {
                w.permissions[0].sources.push(PermissionSource::Role {
                    role_id: "rol_1".into(),
                    role_name: "reader".into(),
                })
            })
            .mentions("directly and through the role reader"),
        case("rbac_permissions_claim_lists_unrequested", "openid read:measurements")
            .aud(MEAS)
            .world(|w| {
                w.permit("write:measurements", &["writer"]);
                w.permit("read:measurements", &[]);
            })
            .scope_is("openid read:measurements")
            .perms(&["read:measurements", "write:measurements"])
            .mentions("Only in permissions, not in scope (not requested, or dropped above): write:measurements."),
        case("rbac_on_plain_dialect_has_no_permissions_claim", SEED)
            .aud(MEAS)
            .world(|w| {
                w.api(MEAS).token_dialect = TokenDialect::AccessToken;
                w.permit("read:measurements", &["reader"]);
            })
            .scope_is(SEED)
            .no_perms()
            .mentions("Add Permissions in the Access Token"),
        case("authz_dialect_without_rbac_has_no_permissions_claim", SEED)
            .aud(MEAS)
            .world(|w| w.api(MEAS).enforce_policies = false)
            .scope_is(SEED)
            .no_perms()
            .rule("read:measurements", R::RbacOff, true)
            .mentions("does not enforce RBAC, so there is no permissions claim"),
        case("dialect_rfc9068_authz_carries_permissions", "openid read:measurements")
            .aud(MEAS)
            .world(|w| {
                w.api(MEAS).token_dialect = TokenDialect::Rfc9068ProfileAuthz;
                w.permit("read:measurements", &["reader"]);
            })
            .perms(&["read:measurements"])
            .format(jwt(SigningAlg::RS256, TokenDialect::Rfc9068ProfileAuthz, 86_400), 86_400),
        case("hs256_api_token_format", "openid myscope")
            .aud(MYAPI)
            .world(|w| {
                let api = w.api(MYAPI);
                api.signing_alg = SigningAlg::HS256;
                api.token_lifetime = 600;
            })
            .format(jwt(SigningAlg::HS256, TokenDialect::AccessToken, 600), 600),
        case("refresh_flow_reapplies_rbac", "openid offline_access read:measurements")
            .flow(Flow::RefreshToken)
            .aud(MEAS)
            .world(|w| w.api(MEAS).allow_offline_access = true)
            .scope_is("openid offline_access")
            .refresh(true)
            .rule("read:measurements", R::RbacMissingPermission, false),
    ]
}

pub fn access_policies() -> Vec<Case> {
    let require = |w: &mut World| {
        w.api(MYAPI).subject_type_authorization.user.policy = UserAccessPolicy::RequireClientGrant
    };
    vec![
        case("user_policy_deny_all", "openid myscope")
            .aud(MYAPI)
            .world(|w| w.api(MYAPI).subject_type_authorization.user.policy = UserAccessPolicy::DenyAll)
            .err(
                ErrorCode::AccessDenied,
                "User access to \"https://myapi.example\" is denied by the API's access policy.",
            )
            .rule("myscope", R::AccessPolicy, false)
            .rule("openid", R::AccessPolicy, false),
        case("require_client_grant_without_grant", "openid myscope")
            .aud(MYAPI)
            .world(require)
            .scope_is("openid")
            .rule("myscope", R::AccessPolicy, false)
            .mentions("Create a client grant with subject_type user for client spa_client on API https://myapi.example that includes myscope."),
        case("require_client_grant_with_user_grant", "openid myscope")
            .aud(MYAPI)
            .world(require)
            .world(|w| {
                w.grant(MYAPI, SubjectType::User, &["myscope"]);
            })
            .scope_is("openid myscope")
            .rule("myscope", R::RbacOff, true)
            .mentions("The user client grant cgr_1 of client Angular SPA (spa_client) covers it"),
        case("require_client_grant_scope_not_in_grant", "openid myscope other:scope")
            .aud(MYAPI)
            .world(require)
            .world(|w| {
                w.grant(MYAPI, SubjectType::User, &["myscope"]);
            })
            .scope_is("openid myscope")
            .rule("other:scope", R::NotInClientGrant, false)
            .mentions("Add other:scope to the scope of client grant cgr_1."),
        case("require_client_grant_ignores_client_type_grant", "openid myscope")
            .aud(MYAPI)
            .world(require)
            .world(|w| {
                w.grant(MYAPI, SubjectType::Client, &["myscope"]);
            })
            .scope_is("openid")
            .rule("myscope", R::AccessPolicy, false),
        case("require_client_grant_intersects_rbac", "openid read:measurements write:measurements")
            .aud(MEAS)
            .world(|w| {
                w.api(MEAS).subject_type_authorization.user.policy =
                    UserAccessPolicy::RequireClientGrant;
                w.permit("read:measurements", &["reader"]);
                w.permit("write:measurements", &["writer"]);
                w.grant(MEAS, SubjectType::User, &["write:measurements"]);
            })
            .scope_is("openid write:measurements")
            .perms(&["read:measurements", "write:measurements"])
            .rule("read:measurements", R::NotInClientGrant, false),
        case("third_party_needs_user_grant", "openid myscope")
            .aud(MYAPI)
            .world(World::third_party)
            .scope_is("openid")
            .rule("myscope", R::AccessPolicy, false)
            .mentions("third-party applications always need a client grant")
            .mentions("default_for third_party_clients"),
        case("third_party_default_for_grant_counts", "openid myscope")
            .aud(MYAPI)
            .world(|w| {
                w.third_party();
                let g = w.grant(MYAPI, SubjectType::User, &["myscope"]);
                g.client_id = None;
                g.default_for = Some("third_party_clients".into());
            })
            .scope_is("openid myscope"),
    ]
}

pub fn offline_access_and_lifetimes() -> Vec<Case> {
    let offline = |w: &mut World| w.api(MYAPI).allow_offline_access = true;
    vec![
        case(
            "offline_access_with_allow_offline_access",
            "openid offline_access myscope",
        )
        .aud(MYAPI)
        .world(offline)
        .scope_is("openid offline_access myscope")
        .refresh(true)
        .rule("offline_access", R::OfflineAccessAllowed, true),
        case(
            "offline_access_without_allow_offline_access",
            "openid offline_access myscope",
        )
        .aud(MYAPI)
        .scope_is("openid myscope")
        .refresh(false)
        .rule("offline_access", R::OfflineAccessNotAllowed, false)
        .mentions("API https://myapi.example does not allow offline access")
        .mentions("Turn on allow_offline_access"),
        case("offline_access_without_api", "openid offline_access")
            .scope_is("openid offline_access")
            .refresh(true)
            .format(TokenFormat::Opaque, 86_400),
        case(
            "implicit_never_issues_refresh_token",
            "openid offline_access myscope",
        )
        .flow(Flow::Implicit)
        .aud(MYAPI)
        .world(offline)
        .scope_is("openid myscope")
        .refresh(false)
        .rule("offline_access", R::OfflineAccessNotForFlow, false)
        .format(
            jwt(SigningAlg::RS256, TokenDialect::AccessToken, 7_200),
            7_200,
        ),
        case(
            "implicit_web_lifetime_capped_at_token_lifetime",
            "openid myscope",
        )
        .flow(Flow::Implicit)
        .aud(MYAPI)
        .world(|w| w.api(MYAPI).token_lifetime = 3_600)
        .expires_in(3_600),
        case("implicit_without_api_is_opaque_for_web", "openid")
            .flow(Flow::Implicit)
            .format(TokenFormat::Opaque, 7_200),
        case(
            "refresh_needs_refresh_token_grant_type",
            "openid offline_access",
        )
        .aud(MYAPI)
        .world(offline)
        .world(|w| w.client.grant_types.retain(|g| g != "refresh_token"))
        .refresh(false)
        .rule("offline_access", R::RefreshGrantNotEnabled, false),
        case(
            "device_code_issues_refresh_token",
            "openid offline_access myscope",
        )
        .flow(Flow::DeviceCode)
        .aud(MYAPI)
        .world(offline)
        .refresh(true)
        .id_token(true),
        case("no_offline_access_no_refresh_token", "openid myscope")
            .aud(MYAPI)
            .world(offline)
            .refresh(false)
            .mentions("offline_access was not requested"),
    ]
}

pub fn password_grant() -> Vec<Case> {
    vec![
        case("password_without_api_scope_gets_every_api_scope", "openid")
            .flow(Flow::Password)
            .aud(MYAPI)
            .scope_is("openid myscope other:scope")
            .rule("myscope", R::RbacOff, true)
            .mentions("the password grant asks for every scope of the API"),
        case("password_implied_scopes_still_face_rbac", "openid")
            .flow(Flow::Password)
            .aud(MEAS)
            .world(|w| w.permit("read:measurements", &["reader"]))
            .scope_is("openid read:measurements")
            .perms(&["read:measurements"])
            .rule("write:measurements", R::RbacMissingPermission, false),
        case(
            "password_with_named_api_scope_gets_only_it",
            "openid myscope",
        )
        .flow(Flow::Password)
        .aud(MYAPI)
        .scope_is("openid myscope"),
        case("password_without_api_gets_oidc_only", "openid profile")
            .flow(Flow::Password)
            .scope_is("openid profile")
            .format(TokenFormat::Opaque, 86_400),
    ]
}

pub fn consent() -> Vec<Case> {
    let scopes = "openid myscope";
    vec![
        case("third_party_consent_required", scopes)
            .aud(MYAPI)
            .world(|w| {
                w.third_party();
                w.grant(MYAPI, SubjectType::User, &["myscope"]);
                w.consent(None, false, false);
            })
            .scope_is(scopes)
            .consent_required(true)
            .mentions("is a third-party application"),
        case("third_party_consent_already_given", scopes)
            .aud(MYAPI)
            .world(|w| {
                w.third_party();
                w.grant(MYAPI, SubjectType::User, &["myscope"]);
                w.consent(Some("openid myscope profile"), false, false);
            })
            .consent_required(false)
            .mentions("already consented to every granted scope"),
        case("consent_for_a_new_scope_is_asked_again", scopes)
            .aud(MYAPI)
            .world(|w| {
                w.third_party();
                w.grant(MYAPI, SubjectType::User, &["myscope"]);
                w.consent(Some("openid"), false, false);
            })
            .consent_required(true)
            .mentions("The earlier consent did not cover myscope."),
        case("prompt_consent_asks_even_when_consented", scopes)
            .aud(MYAPI)
            .world(|w| w.consent(Some(scopes), true, false))
            .consent_required(true)
            .mentions("prompt=consent"),
        case("first_party_skips_consent", scopes)
            .aud(MYAPI)
            .world(|w| w.consent(None, false, false))
            .consent_required(false)
            .mentions("No consent screen"),
        case("first_party_without_skip_consent", scopes)
            .aud(MYAPI)
            .world(|w| {
                w.api(MYAPI).skip_consent_for_verifiable_first_party_clients = false;
                w.consent(None, false, false);
            })
            .consent_required(true)
            .mentions("skip_consent_for_verifiable_first_party_clients is off"),
        case("loopback_redirect_asks_once", scopes)
            .aud(MYAPI)
            .world(|w| w.consent(None, false, true))
            .consent_required(true)
            .mentions("loopback address"),
        case("loopback_redirect_remembers_consent", scopes)
            .aud(MYAPI)
            .world(|w| w.consent(Some(scopes), false, true))
            .consent_required(false),
        case("no_api_first_party_no_consent", "openid profile")
            .world(|w| w.consent(None, false, true))
            .consent_required(false),
        case(
            "no_api_third_party_consents_to_oidc_scopes",
            "openid profile",
        )
        .world(|w| {
            w.third_party();
            w.consent(None, false, false);
        })
        .consent_required(true)
        .mentions("asks bob@example.com for: openid profile"),
        case("consent_not_evaluated_without_facts", scopes)
            .aud(MYAPI)
            .world(|w| {
                w.third_party();
                w.grant(MYAPI, SubjectType::User, &["myscope"]);
            })
            .consent_required(false),
    ]
}

/// The Management API in user flows (auth0-compat.md §9): whatever its settings
/// say, a user gets the end-user scopes, and any other management scope only
/// through RBAC; a third-party client is always asked for consent.
pub fn system_api_in_user_flows() -> Vec<Case> {
    fn mgmt_world(w: &mut World) {
        let api = w.api(MGMT);
        api.scopes = ["read:users", "create:clients", "read:current_user"]
            .iter()
            .map(|s| ScopeDefinition {
                value: s.to_string(),
                description: String::new(),
            })
            .collect();
        // The settings that once let every user in: no RBAC, consent skipped.
        api.enforce_policies = false;
        api.skip_consent_for_verifiable_first_party_clients = true;
    }
    let mut cases = Vec::new();
    for (flow, without, with_admin) in [
        (Flow::AuthorizationCode, "code_no_permission", "code_admin"),
        (Flow::Implicit, "implicit_no_permission", "implicit_admin"),
        (Flow::RefreshToken, "refresh_no_permission", "refresh_admin"),
        (Flow::Password, "password_no_permission", "password_admin"),
        (Flow::DeviceCode, "device_no_permission", "device_admin"),
    ] {
        cases.push(
            case(
                without,
                "openid read:users create:clients read:current_user",
            )
            .flow(flow)
            .aud(MGMT)
            .world(mgmt_world)
            .scope_is("openid read:current_user")
            .rule("read:users", R::SystemApiMissingPermission, false)
            .rule("create:clients", R::SystemApiMissingPermission, false)
            .rule("read:current_user", R::SystemApiEndUserScope, true)
            .mentions("Assign the role Admin"),
        );
        cases.push(
            case(
                with_admin,
                "openid read:users create:clients read:current_user",
            )
            .flow(flow)
            .aud(MGMT)
            .world(|w| {
                mgmt_world(w);
                w.permit("read:users", &["Admin"]);
                w.permit("create:clients", &["Admin"]);
            })
            .scope_is("openid read:users create:clients read:current_user")
            .rule("read:users", R::SystemApiPermission, true)
            .mentions("has the permission read:users on the Management API"),
        );
    }
    cases.extend([
        case(
            "system_api_password_grant_without_scope_implies_end_user_scopes",
            "",
        )
        .flow(Flow::Password)
        .aud(MGMT)
        .world(mgmt_world)
        .scope_is("read:current_user"),
        case(
            "system_api_password_grant_without_scope_implies_held_permissions",
            "",
        )
        .flow(Flow::Password)
        .aud(MGMT)
        .world(|w| {
            mgmt_world(w);
            w.permit("create:clients", &[]);
        })
        .scope_is("create:clients read:current_user"),
        case(
            "system_api_inferred_audience_never_chosen_from_management_scopes",
            "openid read:users",
        )
        .world(|w| {
            mgmt_world(w);
            w.tenant.infer_audience_from_scope = true;
        })
        .audience_is(None, A::UserinfoOnly)
        .scope_is("openid"),
        case(
            "system_api_third_party_consent_is_never_skipped",
            "openid read:current_user",
        )
        .aud(MGMT)
        .world(|w| {
            mgmt_world(w);
            w.third_party();
            w.grant(MGMT, SubjectType::User, &["read:current_user"]);
            w.consent(Some("openid read:current_user"), false, false);
        })
        .scope_is("openid read:current_user")
        .consent_required(true)
        .mentions("for which consent is never skipped"),
        case(
            "system_api_first_party_remembered_consent_still_counts",
            "openid read:current_user",
        )
        .aud(MGMT)
        .world(|w| {
            mgmt_world(w);
            w.consent(Some("openid read:current_user"), false, false);
        })
        .consent_required(false),
    ]);
    cases
}
