//! `gatehouse actions deploy FILE --trigger post-login [--name NAME]
//! [--secret NAME=VALUE …]`: creates or updates the Action named NAME (the
//! file's stem by default) on the local database, deploys it with the same
//! compile check as the Management API, and appends it to the trigger's flow
//! unless it is there already.
//!
//! On an existing Action, each `--secret` sets that secret and the others are
//! kept. Secrets are sealed under the master key (as for `serve`), so it is
//! needed only when `--secret` is given. A syntax error prints its line and
//! exits with status 2, changing nothing but the stored code.

use crate::admin::{check_master_key, emit, master_key, open, store_err, Common};
use clap::Subcommand;
use gatehouse_core::actions::Trigger;
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::redact::Secret;
use gatehouse_server::actions_admin::{self as admin, ActionsError, NewAction, SecretInput};
use gatehouse_store::{Store, TriggerRef};
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Create or update an Action from a JavaScript file, deploy it, and bind
    /// it to its trigger (appended to the flow when not bound yet)
    Deploy {
        /// The Action's code (Auth0's `exports.onExecutePostLogin = …` shape)
        file: PathBuf,
        /// post-login, credentials-exchange or pre-user-registration
        #[arg(long)]
        trigger: String,
        /// The Action's name [default: the file name without its extension]
        #[arg(long)]
        name: Option<String>,
        /// A secret for event.secrets, as NAME=VALUE (repeatable)
        #[arg(long = "secret", value_name = "NAME=VALUE")]
        secrets: Vec<Secret<String>>,
    },
}

pub async fn run(common: Common, command: ActionsCommand) -> Result<(), String> {
    match command {
        ActionsCommand::Deploy {
            file,
            trigger,
            name,
            secrets,
        } => deploy(&common, file, &trigger, name, &secrets).await,
    }
}

fn explain(e: ActionsError) -> String {
    match e {
        ActionsError::Compile(e) => e.to_string(),
        e => e.to_string(),
    }
}

fn parse_secret(text: &Secret<String>) -> Result<SecretInput, String> {
    let (name, value) = text
        .expose_str()
        .split_once('=')
        .ok_or("--secret takes NAME=VALUE")?;
    Ok(SecretInput {
        name: name.to_string(),
        value: Some(value.to_string()),
    })
}

async fn deploy(
    common: &Common,
    file: PathBuf,
    trigger: &str,
    name: Option<String>,
    secrets: &[Secret<String>],
) -> Result<(), String> {
    let trigger = Trigger::parse(trigger).ok_or_else(|| {
        format!(
            "unknown trigger '{trigger}' (known: {})",
            Trigger::ALL.map(Trigger::id).join(", ")
        )
    })?;
    let code = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let name = match name {
        Some(name) => name,
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .ok_or_else(|| format!("{} has no file name; give --name", file.display()))?,
    };
    let secrets = secrets
        .iter()
        .map(parse_secret)
        .collect::<Result<Vec<_>, _>>()?;
    let store = open(common).await?;
    let store: &dyn Store = store.as_ref();
    let key = if secrets.is_empty() {
        None
    } else {
        let key = master_key(common)?;
        check_master_key(&store.signing_keys().await.map_err(store_err)?, &key)?;
        Some(key.key)
    };
    let now = SystemClock.now();
    let triggers = vec![TriggerRef {
        id: trigger.id().into(),
        version: trigger.version().into(),
    }];
    let (action, created) = match admin::find_by_name(store, &name).await.map_err(explain)? {
        None => {
            let new = NewAction {
                name: name.clone(),
                code,
                runtime: None,
                supported_triggers: triggers,
                dependencies: json!([]),
                secrets,
            };
            // Without secrets nothing is sealed, so no master key is needed.
            let key = key.unwrap_or_else(gatehouse_core::sealing::MasterKey::generate);
            let action = admin::create(store, &key, new, now)
                .await
                .map_err(explain)?;
            (action, true)
        }
        Some(mut action) => {
            admin::check_code(&code).map_err(explain)?;
            if admin::trigger_of(&action) != Some(trigger) {
                let bound = store
                    .trigger_bindings(admin::trigger_of(&action).map_or("", Trigger::id))
                    .await
                    .map_err(store_err)?;
                if bound.iter().any(|b| b.action_id == action.id) {
                    return Err(format!(
                        "the Action '{name}' is bound to another trigger; remove it from that flow first"
                    ));
                }
            }
            action.code = code;
            action.supported_triggers = triggers;
            if let Some(key) = &key {
                let mut inputs: Vec<SecretInput> = action
                    .secrets
                    .iter()
                    .filter(|s| !secrets.iter().any(|n| n.name == s.name))
                    .map(|s| SecretInput {
                        name: s.name.clone(),
                        value: None,
                    })
                    .collect();
                inputs.extend(secrets);
                action.secrets =
                    admin::seal_secrets(key, &action.id, &inputs, &action.secrets, now)
                        .map_err(explain)?;
            }
            action.updated_at = now;
            store.update_action(&action).await.map_err(store_err)?;
            (action, false)
        }
    };
    let verb = if created { "created" } else { "updated" };
    emit(&format!(
        "{verb} the Action '{}' ({})",
        action.name, action.id
    ));
    let deployed = admin::deploy(store, &action.id, now)
        .await
        .map_err(explain)?;
    let number = deployed.deployed.as_ref().map_or(0, |d| d.number);
    emit(&format!("deployed version {number}"));
    if admin::bind(store, &deployed, now).await.map_err(explain)? {
        emit(&format!("bound to {} (last in its flow)", trigger.id()));
    } else {
        emit(&format!("already bound to {}", trigger.id()));
    }
    Ok(())
}
