//! Operator commands that work on the local database, without a token:
//! `gatehouse users|roles|apis|clients|grants|keys …`. Output is a table by
//! default and JSON with `--json` (one array or object, for scripts).
//!
//! They open the same store `serve` uses (`--data-dir` / `--database-url`,
//! or `GATEHOUSE_DATA_DIR` / `GATEHOUSE_DATABASE_URL`), so run them on the
//! server's machine. Running servers pick up `keys rotate` within a second.
//! `keys rotate` and `keys rewrap` need the master key (`--master-key-file`,
//! `GATEHOUSE_MASTER_KEY` or `<data-dir>/master.key`, as for `serve`).

use crate::config::{DATABASE_FILE, DEFAULT_DATA_DIR};
use clap::{Args, Subcommand};
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::ids;
use gatehouse_core::model::{User, DEFAULT_CONNECTION};
use gatehouse_core::password_policy::{PasswordPolicy, PersonalInfo};
use gatehouse_core::redact::Secret;
use gatehouse_server::password::hash_password_blocking;
use gatehouse_server::routes::management::connections;
use gatehouse_store::{Page, Store, StoredUser};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the database is, and how to print.
#[derive(Debug, Args)]
pub struct Common {
    /// Data directory of the server [default: ./gatehouse-data]
    #[arg(long, env = "GATEHOUSE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL (overrides --data-dir)
    #[arg(long, env = "GATEHOUSE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Print JSON instead of a table
    #[arg(long, global = true)]
    pub json: bool,
    /// File holding the master key (as for serve) [default: GATEHOUSE_MASTER_KEY,
    /// else <data-dir>/master.key]
    #[arg(long, env = "GATEHOUSE_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users
    List,
    /// Add a database user (a random password is printed when none is given)
    Add {
        /// Email address the user logs in with (Username-Password-Authentication)
        #[arg(long)]
        email: String,
        /// Password, meeting the database connection's password policy (by
        /// default at least 8 characters and not a common password); a random
        /// one is generated and printed when absent
        #[arg(long)]
        password: Option<Secret<String>>,
    },
    /// Set a user's password (by email or user_id)
    SetPassword {
        user: String,
        password: Secret<String>,
    },
    /// Block a user (by email or user_id); --unblock lifts it
    Block {
        user: String,
        #[arg(long)]
        unblock: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// List them
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List signing keys and their states
    List,
    /// Rotate: next → current → previous, with a fresh next key per algorithm
    Rotate,
    /// Re-seal every private key under a new master key. Stop the servers
    /// first and start them with the new key afterwards.
    Rewrap {
        /// File with the new master key; a new random key is written there
        /// (0600) when it does not exist. Without it, <data-dir>/master.key
        /// is replaced by a new key (only when that is the current key).
        #[arg(long)]
        new_master_key_file: Option<PathBuf>,
    },
}

fn data_dir(common: &Common) -> PathBuf {
    common
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

pub(crate) async fn open(common: &Common) -> Result<Arc<dyn Store>, String> {
    let url = crate::database::existing_url(common.database_url.as_deref(), &data_dir(common))?;
    crate::database::open(&url).await
}

pub(crate) fn store_err(e: impl std::fmt::Display) -> String {
    format!("database: {e}")
}

/// Writes one line to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn emit(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Prints `rows` as JSON or as an aligned table of `columns`.
fn output(common: &Common, columns: &[&str], rows: Vec<Value>) {
    if common.json {
        emit(&serde_json::to_string_pretty(&rows).unwrap_or_default());
        return;
    }
    let cell = |row: &Value, c: &str| match &row[c] {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let widths: Vec<usize> = columns
        .iter()
        .map(|c| {
            rows.iter()
                .map(|r| cell(r, c).chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    emit(&line(columns.iter().map(|c| c.to_uppercase()).collect()));
    for row in &rows {
        emit(&line(columns.iter().map(|c| cell(row, c)).collect()));
    }
}

async fn find_user(store: &dyn Store, who: &str) -> Result<StoredUser, String> {
    let found = if who.contains('|') {
        store.user(who).await
    } else {
        store.user_by_email(DEFAULT_CONNECTION, who).await
    };
    found
        .map_err(store_err)?
        .ok_or_else(|| format!("no user {who:?}"))
}

/// The database connection's password policy, as the server applies it.
async fn password_policy(store: &dyn Store) -> Result<PasswordPolicy, String> {
    connections::stored_options(store)
        .await
        .map(|options| options.password_policy())
        .map_err(store_err)
}

/// `password` if the policy accepts it for this user, else the refusal with
/// the policy's rules.
fn checked(
    policy: &PasswordPolicy,
    password: String,
    user: &PersonalInfo<'_>,
) -> Result<String, String> {
    match policy.check(&password, user) {
        Ok(()) => Ok(password),
        Err(refused) => Err(format!(
            "{}. The database connection's password policy:\n* {}",
            refused.message(),
            policy.rule_lines().join("\n* ")
        )),
    }
}

fn user_row(u: &User) -> Value {
    json!({"user_id": u.user_id, "email": u.email, "name": u.name, "blocked": u.blocked, "logins_count": u.logins_count})
}

pub async fn users(common: Common, command: UsersCommand) -> Result<(), String> {
    let store = open(&common).await?;
    let columns = ["user_id", "email", "name", "blocked", "logins_count"];
    match command {
        UsersCommand::List => {
            let users = store.users(Page::ALL).await.map_err(store_err)?;
            output(
                &common,
                &columns,
                users.iter().map(|s| user_row(&s.user)).collect(),
            );
        }
        UsersCommand::Add { email, password } => {
            let password = password.map(Secret::into_inner);
            if !email.contains('@') {
                return Err(format!("{email:?} is not an email address"));
            }
            let generated = password.is_none();
            let policy = password_policy(store.as_ref()).await?;
            let user_info = PersonalInfo {
                email: &email,
                ..PersonalInfo::default()
            };
            let password = match password {
                Some(given) => checked(&policy, given, &user_info)?,
                None => policy.generate(&user_info).ok_or(
                    "no generated password meets the password policy: give one with --password",
                )?,
            };
            let hash = hash_password_blocking(password.clone()).await?;
            let mut user = User::new(ids::user_id(), &email, SystemClock.now());
            user.email_verified = true;
            store
                .create_user(&StoredUser {
                    user: user.clone(),
                    password_hash: Some(hash),
                })
                .await
                .map_err(|e| match e {
                    gatehouse_store::StoreError::Conflict(_) => "The user already exists.".into(),
                    e => store_err(e),
                })?;
            let mut row = user_row(&user);
            if generated {
                row["password"] = json!(password);
            }
            let mut cols = columns.to_vec();
            if generated {
                cols.push("password");
            }
            output(&common, &cols, vec![row]);
        }
        UsersCommand::SetPassword { user, password } => {
            let mut stored = find_user(store.as_ref(), &user).await?;
            let policy = password_policy(store.as_ref()).await?;
            let password = checked(
                &policy,
                password.into_inner(),
                &PersonalInfo::of(&stored.user),
            )?;
            stored.password_hash = Some(hash_password_blocking(password).await?);
            stored.user.updated_at = SystemClock.now();
            store.update_user(&stored).await.map_err(store_err)?;
            // A password change lifts brute-force blocks, as in Auth0.
            if let Some(email) = stored.user.email.as_deref() {
                store
                    .clear_login_blocks(&email.to_lowercase())
                    .await
                    .map_err(store_err)?;
            }
            output(&common, &columns, vec![user_row(&stored.user)]);
        }
        UsersCommand::Block { user, unblock } => {
            let mut stored = find_user(store.as_ref(), &user).await?;
            stored.user.blocked = !unblock;
            stored.user.updated_at = SystemClock.now();
            store.update_user(&stored).await.map_err(store_err)?;
            output(&common, &columns, vec![user_row(&stored.user)]);
        }
    }
    Ok(())
}

pub async fn roles(common: Common, _: ListCommand) -> Result<(), String> {
    let store = open(&common).await?;
    let roles = store.roles(Page::ALL).await.map_err(store_err)?;
    let mut rows = Vec::new();
    for r in roles {
        let perms = store.role_permissions(&r.id).await.map_err(store_err)?;
        let names: Vec<String> = perms
            .iter()
            .map(|p| format!("{} {}", p.resource_server_identifier, p.permission_name))
            .collect();
        rows.push(json!({"id": r.id, "name": r.name, "description": r.description, "permissions": names.join(", ")}));
    }
    output(&common, &["id", "name", "description", "permissions"], rows);
    Ok(())
}

pub async fn apis(common: Common, _: ListCommand) -> Result<(), String> {
    let store = open(&common).await?;
    let apis = store.resource_servers(Page::ALL).await.map_err(store_err)?;
    let rows = apis
        .iter()
        .map(|a| {
            let scopes: Vec<&str> = a.scopes.iter().map(|s| s.value.as_str()).collect();
            json!({"id": a.id, "name": a.name, "identifier": a.identifier, "rbac": a.enforce_policies,
                   "signing_alg": a.signing_alg.as_str(), "scopes": scopes.join(" ")})
        })
        .collect();
    output(
        &common,
        &["id", "name", "identifier", "rbac", "signing_alg", "scopes"],
        rows,
    );
    Ok(())
}

pub async fn clients(common: Common, _: ListCommand) -> Result<(), String> {
    let store = open(&common).await?;
    let clients = store.clients(Page::ALL).await.map_err(store_err)?;
    let rows = clients
        .iter()
        .map(|s| {
            let c = &s.client;
            json!({"client_id": c.client_id, "name": c.name, "app_type": c.app_type,
                   "grant_types": c.grant_types.join(" ")})
        })
        .collect();
    output(
        &common,
        &["client_id", "name", "app_type", "grant_types"],
        rows,
    );
    Ok(())
}

pub async fn grants(common: Common, _: ListCommand) -> Result<(), String> {
    let store = open(&common).await?;
    let grants = store.client_grants(Page::ALL).await.map_err(store_err)?;
    let rows = grants
        .iter()
        .map(|g| json!({"id": g.id, "client_id": g.client_id, "audience": g.audience, "scope": g.scope.join(" ")}))
        .collect();
    output(&common, &["id", "client_id", "audience", "scope"], rows);
    Ok(())
}

/// The master key for `common` (never generated here) and where it is from.
pub(crate) fn master_key(common: &Common) -> Result<crate::master_key::Resolved, String> {
    let url = common
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite:{}", data_dir(common).join(DATABASE_FILE).display()));
    crate::master_key::resolve(
        common.master_key_file.as_deref(),
        &data_dir(common),
        &url,
        false,
    )
}

/// Fails with the operator's message unless `master_key` opens every stored key.
pub(crate) fn check_master_key(
    keys: &[gatehouse_store::StoredKey],
    master_key: &crate::master_key::Resolved,
) -> Result<(), String> {
    gatehouse_server::keys::verify_master_key(keys, &master_key.key).map_err(|e| {
        if e.is_master_key_mismatch() {
            format!(
                "the master key does not match the one the signing keys were sealed with (master key from {})",
                master_key.source
            )
        } else {
            e.to_string()
        }
    })
}

pub async fn keys(common: Common, command: KeysCommand) -> Result<(), String> {
    let store = open(&common).await?;
    match command {
        KeysCommand::List => {}
        KeysCommand::Rotate => {
            let master_key = master_key(&common)?;
            check_master_key(&store.signing_keys().await.map_err(store_err)?, &master_key)?;
            gatehouse_server::routes::management::keys::rotate_all(
                store.as_ref(),
                &master_key.key,
                SystemClock.now(),
            )
            .await
            .map_err(|e| e.message)?;
            if !common.json {
                emit("rotated; running servers reload their keys within a second");
            }
        }
        KeysCommand::Rewrap {
            new_master_key_file,
        } => rewrap(&common, store.as_ref(), new_master_key_file).await?,
    }
    let keys = store.signing_keys().await.map_err(store_err)?;
    let rows = keys
        .iter()
        .map(|k| {
            json!({"kid": k.kid, "alg": k.alg.as_str(), "state": k.state,
                        "since": gatehouse_core::time::iso8601(k.state_changed_at)})
        })
        .collect();
    output(&common, &["kid", "alg", "state", "since"], rows);
    Ok(())
}

/// `gatehouse keys rewrap`: re-seals every private key (plain rows of
/// earlier versions included, until a start has sealed them) under a new master key in one transaction.
/// For `<data-dir>/master.key`, the new key is staged beside it first and
/// renamed over it once the database is committed.
async fn rewrap(
    common: &Common,
    store: &dyn Store,
    new_master_key_file: Option<PathBuf>,
) -> Result<(), String> {
    use gatehouse_core::sealing::{self, MasterKey};
    let old = master_key(common)?;
    let keys = store.signing_keys().await.map_err(store_err)?;
    check_master_key(&keys, &old)?;
    gatehouse_server::keys::refuse_plain_keys_once_sealed(store, &keys)
        .await
        .map_err(|e| e.to_string())?;
    let (new_key, replaces) = match (&new_master_key_file, &old.source) {
        (Some(path), _) => (crate::master_key::read_or_generate(path)?.0, None),
        (None, crate::master_key::Source::DataDir { path, .. }) => {
            (MasterKey::generate(), Some(path.clone()))
        }
        (None, source) => {
            return Err(format!(
                "the master key comes from {source}: pass --new-master-key-file <path>                  for the new one"
            ))
        }
    };
    if new_key == old.key {
        return Err("the new master key is the current one".into());
    }
    let mut resealed = Vec::with_capacity(keys.len());
    for key in &keys {
        let der = gatehouse_server::keys::any_private_key_der(key, &old.key)
            .map_err(|e| e.to_string())?;
        let context = sealing::signing_key_context(key.alg.as_str(), &key.kid);
        resealed.push((key.kid.clone(), sealing::seal(&new_key, &context, &der)));
    }
    // Action secrets are sealed under the same key; all are opened before
    // anything is written, so a secret the old key cannot open changes nothing.
    let actions = store
        .actions(Page::ALL)
        .await
        .map_err(store_err)?
        .iter()
        .map(|action| gatehouse_server::actions_admin::reseal(action, &old.key, &new_key))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("Action secrets: {e}"))?;
    let provider = gatehouse_server::email::settings::stored_provider(store)
        .await
        .map_err(store_err)?
        .map(|p| p.resealed(&old.key, &new_key))
        .transpose()
        .map_err(|e| format!("the email provider's SMTP password: {e}"))?;
    let staged = replaces
        .as_deref()
        .map(|path| crate::master_key::Staged::write(path, &new_key))
        .transpose()?;
    store
        .replace_signing_key_private_keys(&resealed)
        .await
        .map_err(store_err)?;
    for action in &actions {
        store.update_action(action).await.map_err(store_err)?;
    }
    if let Some(provider) = &provider {
        gatehouse_server::email::settings::store_provider(store, provider)
            .await
            .map_err(store_err)?;
    }
    let location = match staged {
        Some(staged) => staged.commit()?,
        None => new_master_key_file.unwrap_or_default(),
    };
    let location = location.display();
    if !common.json {
        emit(&format!(
            "re-sealed {} signing keys and the secrets of {} Actions under the new master key \
             in {location}; start the servers with it (the old key no longer opens them)",
            resealed.len(),
            actions.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_server::password::verify_password;

    #[tokio::test]
    async fn commands_on_a_temporary_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("g.db").display());
        let key_file = dir.path().join("master.key");
        crate::master_key::read_or_generate(&key_file).unwrap();
        let common = || Common {
            data_dir: None,
            database_url: Some(url.clone()),
            json: true,
            master_key_file: Some(key_file.clone()),
        };
        let add = |password: Option<&str>| UsersCommand::Add {
            email: "ops@example.com".into(),
            password: password.map(Secret::from),
        };
        users(common(), add(Some("long password"))).await.unwrap();
        let err = users(common(), add(None)).await.unwrap_err();
        assert!(err.contains("already exists"), "{err}");
        assert!(users(common(), add(Some("short"))).await.is_err());
        users(
            common(),
            UsersCommand::Block {
                user: "ops@example.com".into(),
                unblock: false,
            },
        )
        .await
        .unwrap();
        users(
            common(),
            UsersCommand::SetPassword {
                user: "OPS@example.com".into(),
                password: "another password".into(),
            },
        )
        .await
        .unwrap();
        let store = gatehouse_store::open(&url).await.unwrap();
        let stored = store
            .user_by_email(DEFAULT_CONNECTION, "ops@example.com")
            .await
            .unwrap()
            .unwrap();
        assert!(stored.user.blocked);
        assert!(verify_password(
            "another password",
            stored.password_hash.as_deref().unwrap()
        ));
        let missing = UsersCommand::Block {
            user: "nobody@example.com".into(),
            unblock: true,
        };
        assert!(users(common(), missing).await.is_err());
        users(common(), UsersCommand::List).await.unwrap();
        roles(common(), ListCommand::List).await.unwrap();
        apis(common(), ListCommand::List).await.unwrap();
        clients(common(), ListCommand::List).await.unwrap();
        grants(common(), ListCommand::List).await.unwrap();
        keys(common(), KeysCommand::Rotate).await.unwrap();
        let states: Vec<String> = store
            .signing_keys()
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.state)
            .collect();
        assert!(states.iter().any(|s| s == "current") && states.iter().any(|s| s == "next"));

        let absent = Common {
            data_dir: Some(dir.path().join("nowhere")),
            database_url: None,
            json: false,
            master_key_file: None,
        };
        assert!(users(absent, UsersCommand::List).await.is_err());
    }

    /// `users set-password` lifts the user's brute-force blocks, as a
    /// password change does in Auth0.
    #[tokio::test]
    async fn set_password_lifts_brute_force_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("g.db").display());
        let common = || Common {
            data_dir: None,
            database_url: Some(url.clone()),
            json: true,
            master_key_file: None,
        };
        let add = UsersCommand::Add {
            email: "ops@example.com".into(),
            password: Some("long password".into()),
        };
        users(common(), add).await.unwrap();
        let store = gatehouse_store::open(&url).await.unwrap();
        let now = SystemClock.now();
        // The reservation that uses up the last attempt blocks the pair.
        assert_eq!(
            store
                .reserve_login_attempt("192.0.2.1", "ops@example.com", now, 1, now + 3600)
                .await
                .unwrap(),
            Some(1)
        );
        assert_eq!(
            store
                .login_blocks("ops@example.com", now)
                .await
                .unwrap()
                .len(),
            1
        );
        let set = UsersCommand::SetPassword {
            user: "ops@example.com".into(),
            password: "another password".into(),
        };
        users(common(), set).await.unwrap();
        assert!(store
            .login_blocks("ops@example.com", now)
            .await
            .unwrap()
            .is_empty());
    }
}
