//! The Management API's scopes (auth0-compat.md §6 and §9): the system API
//! defines the management scopes and the end-user scopes; the bootstrap
//! client and the bootstrap `Admin` role get every management scope; each
//! endpoint of the route table names the ones it accepts.

use gatehouse_core::model::ScopeDefinition;

/// Every management scope, with its description.
pub const ALL: &[(&str, &str)] = &[
    ("read:users", "Read users"),
    ("create:users", "Create users"),
    ("update:users", "Update users"),
    ("update:users_app_metadata", "Update users' app_metadata"),
    ("delete:users", "Delete users"),
    (
        "create:user_tickets",
        "Create password-change and email-verification links",
    ),
    ("read:roles", "Read roles"),
    ("create:roles", "Create roles"),
    ("update:roles", "Update roles"),
    ("delete:roles", "Delete roles"),
    ("read:role_members", "Read role members"),
    ("create:role_members", "Assign roles to users"),
    ("delete:role_members", "Remove roles from users"),
    ("read:resource_servers", "Read APIs"),
    ("create:resource_servers", "Create APIs"),
    ("update:resource_servers", "Update APIs"),
    ("delete:resource_servers", "Delete APIs"),
    ("read:clients", "Read applications"),
    ("create:clients", "Create applications"),
    ("update:clients", "Update applications"),
    ("delete:clients", "Delete applications"),
    ("update:client_keys", "Rotate application secrets"),
    ("read:client_grants", "Read client grants"),
    ("create:client_grants", "Create client grants"),
    ("update:client_grants", "Update client grants"),
    ("delete:client_grants", "Delete client grants"),
    ("read:connections", "Read connections"),
    ("update:connections", "Update connections"),
    ("read:signing_keys", "Read signing keys"),
    ("create:signing_keys", "Rotate signing keys"),
    ("update:signing_keys", "Revoke signing keys"),
    ("read:logs", "Read log events"),
    ("read:logs_users", "Read log events relating to users"),
    (
        "simulate:tokens",
        "Simulate token requests (Gatehouse extension)",
    ),
    ("read:stats", "Read tenant statistics"),
    ("read:tenant_settings", "Read tenant settings"),
    ("update:tenant_settings", "Update tenant settings"),
    (
        "read:actions",
        "Read Actions, triggers, bindings and executions",
    ),
    ("create:actions", "Create, deploy and test Actions"),
    ("update:actions", "Update Actions and trigger bindings"),
    ("delete:actions", "Delete Actions"),
    ("read:email_templates", "Read email templates"),
    ("create:email_templates", "Create email templates"),
    ("update:email_templates", "Update email templates"),
    ("read:email_provider", "Read the email provider"),
    ("create:email_provider", "Configure the email provider"),
    ("update:email_provider", "Update the email provider"),
    ("delete:email_provider", "Remove the email provider"),
    (
        "access:dashboard",
        "Sign in to the dashboard at /admin (Gatehouse extension)",
    ),
];

/// The scope names only.
pub fn names() -> Vec<String> {
    ALL.iter().map(|(name, _)| (*name).to_string()).collect()
}

/// The end-user scopes, with their descriptions, in the order of
/// [`gatehouse_core::grant::END_USER_SCOPES`].
pub const END_USER: &[(&str, &str)] = &[
    ("read:current_user", "Read the signed-in user's own profile"),
    (
        "update:current_user_identities",
        "Link and unlink the signed-in user's own identities",
    ),
    (
        "create:current_user_metadata",
        "Add to the signed-in user's own user_metadata",
    ),
    (
        "update:current_user_metadata",
        "Change the signed-in user's own user_metadata",
    ),
    (
        "delete:current_user_metadata",
        "Remove from the signed-in user's own user_metadata",
    ),
    (
        "create:current_user_device_credentials",
        "Add the signed-in user's own device credentials",
    ),
    (
        "delete:current_user_device_credentials",
        "Remove the signed-in user's own device credentials",
    ),
];

/// The scope definitions of the system API: every management scope, then
/// the end-user scopes.
pub fn system_api_scopes() -> Vec<ScopeDefinition> {
    ALL.iter()
        .chain(END_USER)
        .map(|(value, description)| ScopeDefinition {
            value: (*value).into(),
            description: (*description).into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::grant::END_USER_SCOPES;

    #[test]
    fn end_user_descriptions_cover_exactly_cores_end_user_scopes() {
        let described: Vec<&str> = END_USER.iter().map(|(name, _)| *name).collect();
        assert_eq!(described, END_USER_SCOPES);
        assert!(ALL.iter().all(|(name, _)| !END_USER_SCOPES.contains(name)));
    }
}
