//! `/api/v2/actions/*`: Actions, their deploys and tests, the triggers and
//! each trigger's flow (bindings), and executions, in Auth0's shapes
//! (auth0-compat.md §10).
//!
//! Secrets are write-only: a reply lists their names and when they changed,
//! never a value; the `sapi` event of a write holds the method and path only.
//! A secret given in a write without `value` keeps its previous value; the
//! list given replaces the Action's secrets (a name left out is removed).
//! The test endpoint replies `{payload: {calls, logs, error?}}`: the `api`
//! calls the code made and its console lines, secret values replaced.

use super::error::{deleted, ManagementError, MgmtResult};
use super::extract::{MJson, MPath, MQuery};
use super::pagination::Paging;
use super::render::check_id;
use crate::actions_admin::{self as admin, ActionsError, NewAction, SecretInput, MAX_BINDINGS};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gatehouse_actions::{ActionError, Run};
use gatehouse_core::actions::Trigger;
use gatehouse_core::ids;
use gatehouse_core::time::iso8601;
use gatehouse_store::{ActionBinding, ActionSecret, Page, StoredAction, TriggerRef};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A trigger as Auth0 names it in `supported_triggers`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerRefBody {
    /// `post-login`, `credentials-exchange` or `pre-user-registration`.
    pub id: String,
    /// Auth0's trigger version (`v3` for post-login, else `v2`).
    #[serde(default)]
    pub version: Option<String>,
}

/// A secret in a write: its value is sealed at once and never returned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretBody {
    pub name: String,
    /// Without it, the secret keeps its previous value.
    pub value: Option<String>,
}

/// `POST /actions/actions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAction {
    pub name: String,
    pub supported_triggers: Vec<TriggerRefBody>,
    #[serde(default)]
    pub code: String,
    /// Must be empty: Gatehouse runs no npm modules.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub dependencies: Value,
    /// `node22` (default) or `node18`.
    pub runtime: Option<String>,
    #[serde(default)]
    pub secrets: Vec<SecretBody>,
}

/// `PATCH /actions/actions/{id}`: the fields given replace the stored ones.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAction {
    pub name: Option<String>,
    pub supported_triggers: Option<Vec<TriggerRefBody>>,
    pub code: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub dependencies: Option<Value>,
    pub runtime: Option<String>,
    /// Replaces the list of secrets.
    pub secrets: Option<Vec<SecretBody>>,
}

/// `POST /actions/actions/{id}/test`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestAction {
    /// The sample `event`.
    #[schema(value_type = Object)]
    pub payload: Value,
}

/// Which Action a binding names.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingRef {
    /// `action_id`, `action_name` or `binding_id`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// One place of a flow in `PATCH /actions/triggers/{triggerId}/bindings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingBody {
    #[serde(rename = "ref")]
    pub reference: BindingRef,
    pub display_name: Option<String>,
}

/// `PATCH /actions/triggers/{triggerId}/bindings`: the whole flow, in order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBindings {
    pub bindings: Vec<BindingBody>,
}

/// `GET /actions/actions`.
#[derive(Debug, Default, Deserialize)]
pub struct ActionFilter {
    #[serde(rename = "triggerId")]
    pub trigger_id: Option<String>,
    #[serde(rename = "actionName")]
    pub action_name: Option<String>,
    pub deployed: Option<bool>,
    /// Marketplace integrations: Gatehouse has none.
    pub installed: Option<bool>,
}

/// `DELETE /actions/actions/{id}`.
#[derive(Debug, Default, Deserialize)]
pub struct DeleteOptions {
    pub force: Option<bool>,
}

/// A secret in a reply: never its value.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretView {
    pub name: String,
    /// ISO 8601.
    pub updated_at: String,
}

/// A deployed version of an Action.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActionVersion)]
pub struct VersionView {
    /// `<action id>-v<number>`.
    pub id: String,
    pub action_id: String,
    pub number: i64,
    pub deployed: bool,
    /// Always `built`.
    pub status: String,
    pub code: String,
    pub runtime: String,
    #[schema(value_type = Vec<Object>)]
    pub dependencies: Value,
    pub secrets: Vec<SecretView>,
    pub supported_triggers: Vec<TriggerRefBody>,
    /// ISO 8601.
    pub created_at: String,
    /// ISO 8601.
    pub updated_at: String,
}

/// An Action.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Action)]
pub struct ActionView {
    pub id: String,
    pub name: String,
    pub supported_triggers: Vec<TriggerRefBody>,
    /// Whether the deployed version holds the current code and secrets.
    pub all_changes_deployed: bool,
    /// ISO 8601.
    pub created_at: String,
    /// ISO 8601.
    pub updated_at: String,
    pub code: String,
    #[schema(value_type = Vec<Object>)]
    pub dependencies: Value,
    pub runtime: String,
    pub secrets: Vec<SecretView>,
    /// Always `built`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployed_version: Option<VersionView>,
}

/// `GET /actions/actions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionList {
    pub actions: Vec<ActionView>,
    pub total: usize,
    pub page: u64,
    pub per_page: u64,
}

/// A trigger Gatehouse runs.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActionTrigger)]
pub struct TriggerView {
    pub id: String,
    pub version: String,
    /// Always `CURRENT`.
    pub status: String,
    pub runtimes: Vec<String>,
    pub default_runtime: String,
    pub compatible_triggers: Vec<String>,
}

/// `GET /actions/triggers`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriggerList {
    pub triggers: Vec<TriggerView>,
}

/// One place in a trigger's flow.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActionBinding)]
pub struct BindingView {
    pub id: String,
    pub trigger_id: String,
    pub display_name: String,
    pub action: ActionView,
    /// ISO 8601.
    pub created_at: String,
    /// ISO 8601.
    pub updated_at: String,
}

/// `GET /actions/triggers/{triggerId}/bindings`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BindingList {
    pub bindings: Vec<BindingView>,
    pub total: usize,
    pub page: u64,
    pub per_page: u64,
}

/// `PATCH /actions/triggers/{triggerId}/bindings`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedBindings {
    pub bindings: Vec<BindingView>,
}

/// One run of a trigger's flow.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ActionExecution)]
pub struct ExecutionView {
    pub id: String,
    pub trigger_id: String,
    pub status: String,
    #[schema(value_type = Vec<Object>)]
    pub results: Value,
    /// ISO 8601.
    pub created_at: String,
    /// ISO 8601.
    pub updated_at: String,
}

/// What a test run did.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestPayload {
    /// The `api` calls, in order (`{method, args}`).
    #[schema(value_type = Vec<Object>)]
    pub calls: Value,
    /// The console lines (`{level, message}`).
    #[schema(value_type = Vec<Object>)]
    pub logs: Value,
    /// Why the run failed, when it did (`{message}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
}

/// `POST /actions/actions/{id}/test`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    pub payload: TestPayload,
}

impl From<ActionsError> for ManagementError {
    fn from(e: ActionsError) -> Self {
        match e {
            ActionsError::Invalid(message) => {
                ManagementError::invalid_body(format!("Payload validation error: {message}"))
            }
            ActionsError::Compile(e) => {
                ManagementError::new(StatusCode::BAD_REQUEST, compile_message(&e), "invalid_code")
            }
            ActionsError::NotFound => missing_action(),
            ActionsError::NameTaken(name) => ManagementError::conflict(
                format!("An Action named '{name}' already exists."),
                "action_conflict",
            ),
            ActionsError::Unseal => ManagementError::internal("an Action secret does not unseal"),
            ActionsError::Store(e) => e.into(),
        }
    }
}

fn compile_message(e: &ActionError) -> String {
    let text = e.to_string();
    // "the Action has a syntax error …" → "The Action has a syntax error …"
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

fn missing_action() -> ManagementError {
    ManagementError::not_found("The Action does not exist.", "inexistent_action")
}

fn secret_views(secrets: &[ActionSecret]) -> Vec<SecretView> {
    secrets
        .iter()
        .map(|s| SecretView {
            name: s.name.clone(),
            updated_at: iso8601(s.updated_at),
        })
        .collect()
}

fn trigger_views(triggers: &[TriggerRef]) -> Vec<TriggerRefBody> {
    triggers
        .iter()
        .map(|t| TriggerRefBody {
            id: t.id.clone(),
            version: Some(t.version.clone()),
        })
        .collect()
}

fn version_view(action: &StoredAction) -> Option<VersionView> {
    let deployed = action.deployed.as_ref()?;
    Some(VersionView {
        id: format!("{}-v{}", action.id, deployed.number),
        action_id: action.id.clone(),
        number: deployed.number,
        deployed: true,
        status: "built".into(),
        code: deployed.code.clone(),
        runtime: action.runtime.clone(),
        dependencies: Value::Array(Vec::new()),
        secrets: secret_views(&deployed.secrets),
        supported_triggers: trigger_views(&action.supported_triggers),
        created_at: iso8601(deployed.deployed_at),
        updated_at: iso8601(deployed.deployed_at),
    })
}

/// The Action as Auth0 renders it.
pub fn action_view(action: &StoredAction) -> ActionView {
    let all_changes_deployed = action
        .deployed
        .as_ref()
        .is_some_and(|d| d.code == action.code && d.secrets == action.secrets);
    ActionView {
        id: action.id.clone(),
        name: action.name.clone(),
        supported_triggers: trigger_views(&action.supported_triggers),
        all_changes_deployed,
        created_at: iso8601(action.created_at),
        updated_at: iso8601(action.updated_at),
        code: action.code.clone(),
        dependencies: Value::Array(Vec::new()),
        runtime: action.runtime.clone(),
        secrets: secret_views(&action.secrets),
        status: "built".into(),
        deployed_version: version_view(action),
    }
}

fn trigger_refs(bodies: Vec<TriggerRefBody>) -> Vec<TriggerRef> {
    bodies
        .into_iter()
        .map(|t| {
            let version = t
                .version
                .unwrap_or_else(|| Trigger::parse(&t.id).map_or("v1", Trigger::version).into());
            TriggerRef { id: t.id, version }
        })
        .collect()
}

fn secret_inputs(bodies: Vec<SecretBody>) -> Vec<SecretInput> {
    bodies
        .into_iter()
        .map(|s| SecretInput {
            name: s.name,
            value: s.value,
        })
        .collect()
}

async fn find(state: &AppState, id: &str) -> MgmtResult<StoredAction> {
    check_id(id, "id")?;
    state.store().action(id).await?.ok_or_else(missing_action)
}

fn parse_trigger(id: &str) -> MgmtResult<Trigger> {
    Trigger::parse(id).ok_or_else(|| {
        ManagementError::not_found(
            format!("The trigger '{id}' does not exist."),
            "inexistent_trigger",
        )
    })
}

/// The triggers whose flow holds the Action.
async fn bound_triggers(state: &AppState, action_id: &str) -> MgmtResult<Vec<Trigger>> {
    let mut bound = Vec::new();
    for trigger in Trigger::ALL {
        let bindings = state.store().trigger_bindings(trigger.id()).await?;
        if bindings.iter().any(|b| b.action_id == action_id) {
            bound.push(trigger);
        }
    }
    Ok(bound)
}

pub async fn create(
    State(state): State<AppState>,
    MJson(body): MJson<CreateAction>,
) -> MgmtResult<(StatusCode, Json<ActionView>)> {
    let new = NewAction {
        name: body.name,
        code: body.code,
        runtime: body.runtime,
        supported_triggers: trigger_refs(body.supported_triggers),
        dependencies: body.dependencies,
        secrets: secret_inputs(body.secrets),
    };
    let action = admin::create(state.store(), state.keys().master_key(), new, state.now()).await?;
    Ok((StatusCode::CREATED, Json(action_view(&action))))
}

pub async fn list(
    State(state): State<AppState>,
    MQuery(paging): MQuery<Paging>,
    MQuery(filter): MQuery<ActionFilter>,
) -> MgmtResult<Json<ActionList>> {
    let window = paging.window()?;
    let matching: Vec<StoredAction> = state
        .store()
        .actions(Page::ALL)
        .await?
        .into_iter()
        .filter(|a| {
            filter
                .trigger_id
                .as_ref()
                .is_none_or(|t| a.supported_triggers.iter().any(|s| &s.id == t))
                && filter.action_name.as_ref().is_none_or(|n| &a.name == n)
                && filter.deployed.is_none_or(|d| a.deployed.is_some() == d)
        })
        .collect();
    let total = matching.len();
    let actions = matching
        .iter()
        .skip(usize::try_from(window.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(window.limit).unwrap_or(usize::MAX))
        .map(action_view)
        .collect();
    Ok(Json(ActionList {
        actions,
        total,
        page: paging.page.unwrap_or(0),
        per_page: window.limit,
    }))
}

pub async fn get_one(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<ActionView>> {
    Ok(Json(action_view(&find(&state, &id).await?)))
}

pub async fn update(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<UpdateAction>,
) -> MgmtResult<Json<ActionView>> {
    let mut action = find(&state, &id).await?;
    let now = state.now();
    if let Some(name) = body.name {
        admin::check_name(&name)?;
        action.name = name;
    }
    if let Some(triggers) = body.supported_triggers {
        let triggers = trigger_refs(triggers);
        let trigger = admin::check_triggers(&triggers)?;
        for bound in bound_triggers(&state, &id).await? {
            if bound != trigger {
                return Err(ManagementError::invalid_body(format!(
                    "Payload validation error: the Action is bound to the trigger '{}'; remove it from that flow first.",
                    bound.id()
                )));
            }
        }
        action.supported_triggers = triggers;
    }
    if let Some(code) = body.code {
        admin::check_code(&code)?;
        action.code = code;
    }
    if let Some(dependencies) = body.dependencies {
        admin::check_dependencies(&dependencies)?;
    }
    if let Some(runtime) = body.runtime {
        admin::check_runtime(&runtime)?;
        action.runtime = runtime;
    }
    if let Some(secrets) = body.secrets {
        action.secrets = admin::seal_secrets(
            state.keys().master_key(),
            &id,
            &secret_inputs(secrets),
            &action.secrets,
            now,
        )?;
    }
    action.updated_at = now;
    state.action_flows().forget();
    match state.store().update_action(&action).await {
        Ok(()) => Ok(Json(action_view(&action))),
        Err(gatehouse_store::StoreError::Conflict(_)) => {
            Err(ActionsError::NameTaken(action.name).into())
        }
        Err(gatehouse_store::StoreError::NotFound) => Err(missing_action()),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MQuery(options): MQuery<DeleteOptions>,
) -> MgmtResult<StatusCode> {
    find(&state, &id).await?;
    let bound = bound_triggers(&state, &id).await?;
    if !bound.is_empty() && options.force != Some(true) {
        let names: Vec<&str> = bound.iter().map(|t| t.id()).collect();
        return Err(ManagementError::conflict(
            format!(
                "The Action is bound to the trigger(s) {}; remove it from those flows first, or delete with force=true.",
                names.join(", ")
            ),
            "action_bound",
        ));
    }
    // The bindings go with the Action.
    let result = state.store().delete_action(&id).await;
    state.action_flows().forget();
    deleted(result)
}

pub async fn deploy(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<VersionView>> {
    check_id(&id, "id")?;
    let action = admin::deploy(state.store(), &id, state.now()).await?;
    state.action_flows().forget();
    version_view(&action)
        .map(Json)
        .ok_or_else(|| ManagementError::internal("a deployed Action without its version"))
}

/// Replaces every secret value (and any text containing one) in `value`.
fn redact(value: &mut Value, secrets: &[(String, String)]) {
    match value {
        Value::String(text) => {
            for (_, secret) in secrets {
                if !secret.is_empty() && text.contains(secret.as_str()) {
                    *text = text.replace(secret.as_str(), "[secret]");
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, secrets)),
        Value::Object(map) => map.values_mut().for_each(|v| redact(v, secrets)),
        _ => {}
    }
}

pub async fn test(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
    MJson(body): MJson<TestAction>,
) -> MgmtResult<Json<TestResult>> {
    let action = find(&state, &id).await?;
    if !body.payload.is_object() {
        return Err(ManagementError::invalid_body(
            "Payload validation error: 'payload' must be an object (the event).",
        ));
    }
    let trigger = admin::trigger_of(&action).ok_or_else(|| {
        ManagementError::invalid_body("Payload validation error: the Action supports no trigger.")
    })?;
    let secrets = admin::unseal_secrets(state.keys().master_key(), &action.id, &action.secrets)?;
    let run = Run {
        code: action.code.as_str().into(),
        trigger,
        event: body.payload,
        secrets: secrets.clone(),
    };
    let (calls, logs, error) = match state.actions().run(run).await {
        Ok(output) => (
            serde_json::to_value(&output.calls).unwrap_or_default(),
            serde_json::to_value(&output.logs).unwrap_or_default(),
            None,
        ),
        Err(e) => (
            Value::Array(Vec::new()),
            Value::Array(Vec::new()),
            Some(serde_json::json!({ "message": compile_message(&e) })),
        ),
    };
    let mut payload = serde_json::json!({ "calls": calls, "logs": logs, "error": error });
    redact(&mut payload, &secrets);
    Ok(Json(TestResult {
        payload: TestPayload {
            calls: payload["calls"].take(),
            logs: payload["logs"].take(),
            error: error_of(payload["error"].take()),
        },
    }))
}

fn error_of(value: Value) -> Option<Value> {
    (!value.is_null()).then_some(value)
}

pub async fn triggers() -> Json<TriggerList> {
    Json(TriggerList {
        triggers: Trigger::ALL
            .into_iter()
            .map(|t| TriggerView {
                id: t.id().into(),
                version: t.version().into(),
                status: "CURRENT".into(),
                runtimes: admin::RUNTIMES.iter().map(|r| (*r).into()).collect(),
                default_runtime: admin::DEFAULT_RUNTIME.into(),
                compatible_triggers: Vec::new(),
            })
            .collect(),
    })
}

async fn binding_views(state: &AppState, trigger: Trigger) -> MgmtResult<Vec<BindingView>> {
    Ok(state
        .store()
        .action_flow(trigger.id())
        .await?
        .iter()
        .map(|(binding, action)| BindingView {
            id: binding.id.clone(),
            trigger_id: binding.trigger_id.clone(),
            display_name: binding.display_name.clone(),
            action: action_view(action),
            created_at: iso8601(binding.created_at),
            updated_at: iso8601(binding.updated_at),
        })
        .collect())
}

pub async fn bindings(
    State(state): State<AppState>,
    MPath(trigger_id): MPath<String>,
    MQuery(paging): MQuery<Paging>,
) -> MgmtResult<Json<BindingList>> {
    let window = paging.window()?;
    let trigger = parse_trigger(&trigger_id)?;
    let all = binding_views(&state, trigger).await?;
    let total = all.len();
    Ok(Json(BindingList {
        bindings: all
            .into_iter()
            .skip(usize::try_from(window.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(window.limit).unwrap_or(usize::MAX))
            .collect(),
        total,
        page: paging.page.unwrap_or(0),
        per_page: window.limit,
    }))
}

pub async fn update_bindings(
    State(state): State<AppState>,
    MPath(trigger_id): MPath<String>,
    MJson(body): MJson<UpdateBindings>,
) -> MgmtResult<Json<UpdatedBindings>> {
    let trigger = parse_trigger(&trigger_id)?;
    let refuse = |message: String| {
        ManagementError::invalid_body(format!("Payload validation error: {message}"))
    };
    if body.bindings.len() > MAX_BINDINGS {
        return Err(refuse(format!(
            "a trigger holds at most {MAX_BINDINGS} Actions."
        )));
    }
    let store = state.store();
    let current = store.trigger_bindings(trigger.id()).await?;
    let actions = store.actions(Page::ALL).await?;
    let now = state.now();
    let mut flow: Vec<ActionBinding> = Vec::with_capacity(body.bindings.len());
    for item in body.bindings {
        let BindingRef { kind, value } = item.reference;
        let action = match kind.as_str() {
            "action_id" => actions.iter().find(|a| a.id == value),
            "action_name" => actions.iter().find(|a| a.name == value),
            "binding_id" => current
                .iter()
                .find(|b| b.id == value)
                .and_then(|b| actions.iter().find(|a| a.id == b.action_id)),
            other => {
                return Err(refuse(format!(
                    "'ref.type' must be action_id, action_name or binding_id, not '{other}'."
                )))
            }
        }
        .ok_or_else(|| refuse(format!("no Action matches the {kind} '{value}'.")))?;
        if admin::trigger_of(action) != Some(trigger) {
            return Err(refuse(format!(
                "the Action '{}' does not support the trigger '{}'.",
                action.name,
                trigger.id()
            )));
        }
        if action.deployed.is_none() {
            return Err(refuse(format!(
                "the Action '{}' was never deployed; deploy it before binding it.",
                action.name
            )));
        }
        if flow.iter().any(|b| b.action_id == action.id) {
            return Err(refuse(format!(
                "the Action '{}' is bound twice.",
                action.name
            )));
        }
        let display_name = item.display_name.unwrap_or_else(|| action.name.clone());
        if display_name.trim().is_empty() || display_name.chars().count() > 100 {
            return Err(refuse("'display_name' must be 1 to 100 characters.".into()));
        }
        let previous = current.iter().find(|b| b.action_id == action.id);
        flow.push(ActionBinding {
            id: previous.map_or_else(|| ids::prefixed("bnd"), |b| b.id.clone()),
            trigger_id: trigger.id().into(),
            action_id: action.id.clone(),
            display_name,
            created_at: previous.map_or(now, |b| b.created_at),
            updated_at: now,
        });
    }
    let replaced = store.replace_trigger_bindings(trigger.id(), &flow).await;
    state.action_flows().forget();
    match replaced {
        Ok(()) => {}
        // An Action deleted meanwhile.
        Err(gatehouse_store::StoreError::NotFound) => {
            return Err(refuse(
                "an Action of the flow was deleted meanwhile.".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Json(UpdatedBindings {
        bindings: binding_views(&state, trigger).await?,
    }))
}

pub async fn execution(
    State(state): State<AppState>,
    MPath(id): MPath<String>,
) -> MgmtResult<Json<ExecutionView>> {
    check_id(&id, "id")?;
    let execution = state.store().action_execution(&id).await?.ok_or_else(|| {
        ManagementError::not_found("The execution does not exist.", "inexistent_execution")
    })?;
    Ok(Json(ExecutionView {
        id: execution.id,
        trigger_id: execution.trigger_id,
        status: execution.status,
        results: execution.results,
        created_at: iso8601(execution.created_at),
        updated_at: iso8601(execution.updated_at),
    }))
}
