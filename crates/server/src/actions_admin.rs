//! Managing Actions, shared by the Management API (`/api/v2/actions/*`) and
//! the CLI (`gatehouse actions deploy`): the checks on what an Action may
//! hold, sealing its secrets, deploying (compile first, then freeze the code
//! and secrets) and adding it to a trigger's flow.
//!
//! Secret values exist in plain text only in a request being handled and in
//! the sandbox: they are sealed under the master key with the context
//! `action-secret:<action id>:<name>` before they reach the store.

use gatehouse_actions::ActionError;
use gatehouse_core::actions::Trigger;
use gatehouse_core::ids;
use gatehouse_core::sealing::{self, MasterKey};
use gatehouse_store::{
    ActionBinding, ActionSecret, DeployedAction, Store, StoreError, StoredAction, TriggerRef,
};

/// Longest Action name (Auth0 accepts names of this size in its dashboard).
pub const MAX_NAME_CHARS: usize = 100;
/// Largest code, as the engine's compile check enforces it.
pub const MAX_CODE_BYTES: usize = 100 * 1024;
/// Most secrets one Action may hold.
pub const MAX_SECRETS: usize = 50;
/// Longest secret value.
pub const MAX_SECRET_BYTES: usize = 4096;
/// Auth0's limit on the Actions bound to one trigger.
pub const MAX_BINDINGS: usize = 10;
/// The runtime an Action gets when none is named.
pub const DEFAULT_RUNTIME: &str = "node22";
/// The runtimes accepted (the code runs on QuickJS either way).
pub const RUNTIMES: &[&str] = &["node18", "node22"];

/// Why an Action cannot be written, deployed or bound.
#[derive(Debug, thiserror::Error)]
pub enum ActionsError {
    /// The input breaks a rule; the message says which, for the caller.
    #[error("{0}")]
    Invalid(String),
    /// The code does not compile, or requires a module that is not there.
    #[error("{0}")]
    Compile(ActionError),
    #[error("the Action does not exist")]
    NotFound,
    #[error("an Action named '{0}' already exists")]
    NameTaken(String),
    #[error("a stored secret cannot be opened with this master key")]
    Unseal,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ActionsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            e => Self::Store(e),
        }
    }
}

fn invalid(message: impl Into<String>) -> ActionsError {
    ActionsError::Invalid(message.into())
}

pub fn check_name(name: &str) -> Result<(), ActionsError> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "'name' must be 1 to {MAX_NAME_CHARS} characters."
        )));
    }
    Ok(())
}

pub fn check_code(code: &str) -> Result<(), ActionsError> {
    if code.len() > MAX_CODE_BYTES {
        return Err(invalid(format!(
            "'code' is {} bytes; the limit is {} KB.",
            code.len(),
            MAX_CODE_BYTES / 1024
        )));
    }
    Ok(())
}

pub fn check_runtime(runtime: &str) -> Result<(), ActionsError> {
    if !RUNTIMES.contains(&runtime) {
        return Err(invalid(format!(
            "'runtime' must be one of {}.",
            RUNTIMES.join(", ")
        )));
    }
    Ok(())
}

/// Gatehouse runs no npm modules: only an empty list (or none) is accepted.
pub fn check_dependencies(dependencies: &serde_json::Value) -> Result<(), ActionsError> {
    match dependencies {
        serde_json::Value::Null => Ok(()),
        serde_json::Value::Array(items) if items.is_empty() => Ok(()),
        _ => Err(invalid(
            "'dependencies' must be empty: Gatehouse Actions run without npm modules.",
        )),
    }
}

/// Exactly one trigger Gatehouse runs, with the version Auth0 gives it (any
/// version is accepted for a known id and stored as given).
pub fn check_triggers(triggers: &[TriggerRef]) -> Result<Trigger, ActionsError> {
    let [only] = triggers else {
        return Err(invalid(
            "'supported_triggers' must name exactly one trigger.",
        ));
    };
    Trigger::parse(&only.id).ok_or_else(|| {
        invalid(format!(
            "'supported_triggers': unknown trigger '{}' (known: {}).",
            only.id,
            Trigger::ALL.map(Trigger::id).join(", ")
        ))
    })
}

/// The trigger an Action runs on.
pub fn trigger_of(action: &StoredAction) -> Option<Trigger> {
    action
        .supported_triggers
        .first()
        .and_then(|t| Trigger::parse(&t.id))
}

/// A secret as the caller writes it: a name and, for a new or changed
/// secret, its value.
#[derive(Debug, Clone)]
pub struct SecretInput {
    pub name: String,
    pub value: Option<String>,
}

fn secret_context(action_id: &str, name: &str) -> String {
    format!("action-secret:{action_id}:{name}")
}

/// The secrets of `action_id` after a write of `inputs`: the list replaces
/// the previous one; a secret given without a value keeps the value it had
/// (an error when it had none). Names are unique and non-empty.
pub fn seal_secrets(
    master_key: &MasterKey,
    action_id: &str,
    inputs: &[SecretInput],
    previous: &[ActionSecret],
    now: i64,
) -> Result<Vec<ActionSecret>, ActionsError> {
    if inputs.len() > MAX_SECRETS {
        return Err(invalid(format!(
            "'secrets': at most {MAX_SECRETS} secrets."
        )));
    }
    let mut sealed: Vec<ActionSecret> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let name = input.name.as_str();
        if name.trim().is_empty() || name.len() > 100 {
            return Err(invalid("'secrets': a name must be 1 to 100 characters."));
        }
        if sealed.iter().any(|s| s.name == name) {
            return Err(invalid(format!("'secrets': '{name}' is given twice.")));
        }
        let secret = match &input.value {
            Some(value) if value.len() > MAX_SECRET_BYTES => {
                return Err(invalid(format!(
                    "'secrets': the value of '{name}' is longer than {MAX_SECRET_BYTES} bytes."
                )))
            }
            Some(value) => ActionSecret {
                name: name.to_string(),
                sealed_value: sealing::seal(
                    master_key,
                    &secret_context(action_id, name),
                    value.as_bytes(),
                ),
                updated_at: now,
            },
            None => previous
                .iter()
                .find(|s| s.name == name)
                .cloned()
                .ok_or_else(|| invalid(format!("'secrets': '{name}' needs a value.")))?,
        };
        sealed.push(secret);
    }
    Ok(sealed)
}

/// The secrets in plain text, for a run.
pub fn unseal_secrets(
    master_key: &MasterKey,
    action_id: &str,
    secrets: &[ActionSecret],
) -> Result<Vec<(String, String)>, ActionsError> {
    secrets
        .iter()
        .map(|s| {
            let plain = sealing::unseal(
                master_key,
                &secret_context(action_id, &s.name),
                &s.sealed_value,
            )
            .map_err(|_| ActionsError::Unseal)?;
            let text = String::from_utf8(plain).map_err(|_| ActionsError::Unseal)?;
            Ok((s.name.clone(), text))
        })
        .collect()
}

/// The Action with every secret (current and deployed) sealed under
/// `new_key` instead of `old_key` (`gatehouse keys rewrap`).
pub fn reseal(
    action: &StoredAction,
    old_key: &MasterKey,
    new_key: &MasterKey,
) -> Result<StoredAction, ActionsError> {
    let reseal_all = |secrets: &[ActionSecret]| -> Result<Vec<ActionSecret>, ActionsError> {
        let plain = unseal_secrets(old_key, &action.id, secrets)?;
        Ok(secrets
            .iter()
            .zip(plain)
            .map(|(secret, (name, value))| ActionSecret {
                sealed_value: sealing::seal(
                    new_key,
                    &secret_context(&action.id, &name),
                    value.as_bytes(),
                ),
                ..secret.clone()
            })
            .collect())
    };
    let mut resealed = action.clone();
    resealed.secrets = reseal_all(&action.secrets)?;
    if let Some(deployed) = &mut resealed.deployed {
        deployed.secrets = reseal_all(&deployed.secrets)?;
    }
    Ok(resealed)
}

/// Compiles `code` off the async threads: a syntax error with its line, or a
/// `require` of a module that is not available.
pub async fn compile(code: String) -> Result<(), ActionsError> {
    tokio::task::spawn_blocking(move || gatehouse_actions::check(&code))
        .await
        .map_err(|e| ActionsError::Compile(ActionError::Engine(e.to_string())))?
        .map_err(ActionsError::Compile)
}

/// Deploys the Action's current code and secrets: compiles first, then
/// freezes them as the next version. Returns the Action as stored.
pub async fn deploy(
    store: &dyn Store,
    action_id: &str,
    now: i64,
) -> Result<StoredAction, ActionsError> {
    let mut action = store
        .action(action_id)
        .await?
        .ok_or(ActionsError::NotFound)?;
    compile(action.code.clone()).await?;
    let number = action.deployed.as_ref().map_or(0, |d| d.number) + 1;
    action.deployed = Some(DeployedAction {
        number,
        code: action.code.clone(),
        secrets: action.secrets.clone(),
        deployed_at: now,
    });
    action.updated_at = now;
    store.update_action(&action).await?;
    Ok(action)
}

/// Appends the Action to its trigger's flow unless it is bound there
/// already; true when it was added.
pub async fn bind(
    store: &dyn Store,
    action: &StoredAction,
    now: i64,
) -> Result<bool, ActionsError> {
    let trigger = trigger_of(action)
        .ok_or_else(|| invalid("the Action supports no trigger Gatehouse runs."))?;
    let mut bindings = store.trigger_bindings(trigger.id()).await?;
    if bindings.iter().any(|b| b.action_id == action.id) {
        return Ok(false);
    }
    if bindings.len() >= MAX_BINDINGS {
        return Err(invalid(format!(
            "the trigger '{}' already has {MAX_BINDINGS} Actions bound.",
            trigger.id()
        )));
    }
    bindings.push(ActionBinding {
        id: ids::prefixed("bnd"),
        trigger_id: trigger.id().into(),
        action_id: action.id.clone(),
        display_name: action.name.clone(),
        created_at: now,
        updated_at: now,
    });
    store
        .replace_trigger_bindings(trigger.id(), &bindings)
        .await?;
    Ok(true)
}

/// What an Action is made of when created.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub name: String,
    pub code: String,
    pub runtime: Option<String>,
    pub supported_triggers: Vec<TriggerRef>,
    pub dependencies: serde_json::Value,
    pub secrets: Vec<SecretInput>,
}

/// Checks and stores a new Action (not deployed).
pub async fn create(
    store: &dyn Store,
    master_key: &MasterKey,
    new: NewAction,
    now: i64,
) -> Result<StoredAction, ActionsError> {
    check_name(&new.name)?;
    check_triggers(&new.supported_triggers)?;
    check_code(&new.code)?;
    check_dependencies(&new.dependencies)?;
    let runtime = new.runtime.unwrap_or_else(|| DEFAULT_RUNTIME.into());
    check_runtime(&runtime)?;
    let id = ids::prefixed("act");
    let secrets = seal_secrets(master_key, &id, &new.secrets, &[], now)?;
    let action = StoredAction {
        id,
        name: new.name,
        code: new.code,
        runtime,
        supported_triggers: new.supported_triggers,
        dependencies: serde_json::json!([]),
        secrets,
        deployed: None,
        created_at: now,
        updated_at: now,
    };
    match store.create_action(&action).await {
        Ok(()) => Ok(action),
        Err(StoreError::Conflict(_)) => Err(ActionsError::NameTaken(action.name)),
        Err(e) => Err(e.into()),
    }
}

/// The Action named `name`, if any.
pub async fn find_by_name(
    store: &dyn Store,
    name: &str,
) -> Result<Option<StoredAction>, ActionsError> {
    Ok(store
        .actions(gatehouse_store::Page::ALL)
        .await?
        .into_iter()
        .find(|a| a.name == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(ids: &[&str]) -> Vec<TriggerRef> {
        ids.iter()
            .map(|id| TriggerRef {
                id: (*id).into(),
                version: "v3".into(),
            })
            .collect()
    }

    #[test]
    fn exactly_one_known_trigger() {
        assert_eq!(
            check_triggers(&refs(&["post-login"])).unwrap(),
            Trigger::PostLogin
        );
        assert!(check_triggers(&refs(&[])).is_err());
        assert!(check_triggers(&refs(&["post-login", "credentials-exchange"])).is_err());
        assert!(check_triggers(&refs(&["send-phone-message"])).is_err());
    }

    #[test]
    fn dependencies_must_be_empty() {
        assert!(check_dependencies(&serde_json::json!([])).is_ok());
        assert!(check_dependencies(&serde_json::Value::Null).is_ok());
        assert!(
            check_dependencies(&serde_json::json!([{"name": "axios", "version": "1"}])).is_err()
        );
    }

    #[test]
    fn secrets_seal_replace_and_keep() {
        let key = MasterKey::generate();
        let first = seal_secrets(
            &key,
            "act_1",
            &[SecretInput {
                name: "API_KEY".into(),
                value: Some("s3cret-value".into()),
            }],
            &[],
            1,
        )
        .unwrap();
        assert!(!first[0].sealed_value.contains("s3cret-value"));
        assert_eq!(
            unseal_secrets(&key, "act_1", &first).unwrap(),
            [("API_KEY".to_string(), "s3cret-value".to_string())]
        );
        // Bound to its Action: another Action's id does not open it.
        assert!(unseal_secrets(&key, "act_2", &first).is_err());
        // Without a value, the previous one is kept.
        let kept = seal_secrets(
            &key,
            "act_1",
            &[SecretInput {
                name: "API_KEY".into(),
                value: None,
            }],
            &first,
            2,
        )
        .unwrap();
        assert_eq!(kept, first);
        let twice = [
            SecretInput {
                name: "A".into(),
                value: Some("1".into()),
            },
            SecretInput {
                name: "A".into(),
                value: Some("2".into()),
            },
        ];
        assert!(seal_secrets(&key, "act_1", &twice, &[], 1).is_err());
        let unknown = [SecretInput {
            name: "NEW".into(),
            value: None,
        }];
        assert!(seal_secrets(&key, "act_1", &unknown, &first, 1).is_err());

        let action = StoredAction {
            id: "act_1".into(),
            name: "a".into(),
            code: String::new(),
            runtime: DEFAULT_RUNTIME.into(),
            supported_triggers: Vec::new(),
            dependencies: serde_json::json!([]),
            secrets: first.clone(),
            deployed: Some(DeployedAction {
                number: 1,
                code: String::new(),
                secrets: first,
                deployed_at: 1,
            }),
            created_at: 1,
            updated_at: 1,
        };
        let new_key = MasterKey::generate();
        let moved = reseal(&action, &key, &new_key).unwrap();
        let deployed = &moved.deployed.as_ref().unwrap().secrets;
        for secrets in [&moved.secrets, deployed] {
            assert!(unseal_secrets(&key, "act_1", secrets).is_err());
            assert_eq!(
                unseal_secrets(&new_key, "act_1", secrets).unwrap()[0].1,
                "s3cret-value"
            );
        }
    }
}
