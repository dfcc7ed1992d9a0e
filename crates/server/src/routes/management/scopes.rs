//! The Management API's scopes (auth0-compat.md §6): the system API defines
//! them, the bootstrap client is granted all of them, and each endpoint of
//! the route table names the ones it accepts.

/// Every scope of the system API, with its description.
pub const ALL: &[(&str, &str)] = &[
    ("read:users", "Read users"),
    ("create:users", "Create users"),
    ("update:users", "Update users"),
    ("update:users_app_metadata", "Update users' app_metadata"),
    ("delete:users", "Delete users"),
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
    ("read:tenant_settings", "Read tenant settings"),
    ("update:tenant_settings", "Update tenant settings"),
];

/// The scope names only.
pub fn names() -> Vec<String> {
    ALL.iter().map(|(name, _)| (*name).to_string()).collect()
}
