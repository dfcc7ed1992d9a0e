//! Actions, trigger bindings (flows) and executions.

use super::harness::{assert_conflict, assert_not_found, T0};
use gatehouse_store::{
    ActionBinding, ActionExecution, ActionSecret, DeployedAction, Page, Store, StoredAction,
    TriggerRef,
};
use serde_json::json;

pub fn action(id: &str, name: &str, at: i64) -> StoredAction {
    StoredAction {
        id: id.into(),
        name: name.into(),
        code: format!("exports.onExecutePostLogin = async () => {{}}; // {name}"),
        runtime: "node22".into(),
        supported_triggers: vec![TriggerRef {
            id: "post-login".into(),
            version: "v3".into(),
        }],
        dependencies: json!([]),
        secrets: vec![ActionSecret {
            name: "KEY".into(),
            sealed_value: "sealed:v1:opaque".into(),
            updated_at: at,
        }],
        deployed: None,
        created_at: at,
        updated_at: at,
    }
}

fn binding(id: &str, trigger_id: &str, action_id: &str) -> ActionBinding {
    ActionBinding {
        id: id.into(),
        trigger_id: trigger_id.into(),
        action_id: action_id.into(),
        display_name: format!("shown {action_id}"),
        created_at: T0,
        updated_at: T0 + 1,
    }
}

fn names(actions: &[StoredAction]) -> Vec<&str> {
    actions.iter().map(|a| a.name.as_str()).collect()
}

fn binding_ids(bindings: &[ActionBinding]) -> Vec<&str> {
    bindings.iter().map(|b| b.id.as_str()).collect()
}

pub async fn actions_crud(store: &dyn Store) {
    let roles = action("act_b", "Add roles", T0);
    let deny = action("act_a", "Deny unverified", T0 + 1);
    store.create_action(&roles).await.unwrap();
    store.create_action(&deny).await.unwrap();

    assert_eq!(store.action("act_b").await.unwrap(), Some(roles.clone()));
    assert!(store.action("act_missing").await.unwrap().is_none());
    // Oldest first, whatever the ids.
    assert_eq!(
        names(&store.actions(Page::ALL).await.unwrap()),
        ["Add roles", "Deny unverified"]
    );
    assert_eq!(
        names(
            &store
                .actions(Page {
                    offset: 1,
                    limit: 10
                })
                .await
                .unwrap()
        ),
        ["Deny unverified"]
    );

    let deployed = StoredAction {
        name: "Roles in tokens".into(),
        code: "exports.onExecutePostLogin = async (event, api) => {};".into(),
        deployed: Some(DeployedAction {
            number: 1,
            code: roles.code.clone(),
            secrets: roles.secrets.clone(),
            deployed_at: T0 + 5,
        }),
        updated_at: T0 + 5,
        ..roles.clone()
    };
    store.update_action(&deployed).await.unwrap();
    assert_eq!(store.action("act_b").await.unwrap(), Some(deployed.clone()));
    assert_not_found(
        store
            .update_action(&action("act_missing", "Ghost", T0))
            .await,
    );

    store.delete_action("act_a").await.unwrap();
    assert!(store.action("act_a").await.unwrap().is_none());
    assert_not_found(store.delete_action("act_a").await);
    assert_eq!(
        names(&store.actions(Page::ALL).await.unwrap()),
        ["Roles in tokens"]
    );
}

pub async fn action_names_are_unique(store: &dyn Store) {
    store
        .create_action(&action("act_1", "Add roles", T0))
        .await
        .unwrap();
    store
        .create_action(&action("act_2", "Trim scopes", T0))
        .await
        .unwrap();
    assert_conflict(store.create_action(&action("act_3", "Add roles", T0)).await);
    assert_conflict(store.create_action(&action("act_1", "Other", T0)).await);
    assert_conflict(store.update_action(&action("act_2", "Add roles", T0)).await);
    // A rename frees the old name.
    store
        .update_action(&action("act_1", "Roles", T0))
        .await
        .unwrap();
    store
        .create_action(&action("act_3", "Add roles", T0))
        .await
        .unwrap();
}

pub async fn bindings_keep_order_and_are_replaced(store: &dyn Store) {
    for (id, name) in [("act_1", "One"), ("act_2", "Two"), ("act_3", "Three")] {
        store.create_action(&action(id, name, T0)).await.unwrap();
    }
    assert!(store
        .trigger_bindings("post-login")
        .await
        .unwrap()
        .is_empty());

    let flow = [
        binding("bnd_c", "post-login", "act_3"),
        binding("bnd_a", "post-login", "act_1"),
        binding("bnd_b", "post-login", "act_2"),
    ];
    store
        .replace_trigger_bindings("post-login", &flow)
        .await
        .unwrap();
    let m2m = [binding("bnd_m", "credentials-exchange", "act_1")];
    store
        .replace_trigger_bindings("credentials-exchange", &m2m)
        .await
        .unwrap();
    let stored = store.trigger_bindings("post-login").await.unwrap();
    assert_eq!(stored, flow);

    // Replacing reorders, keeps ids that are given again, drops the rest.
    let reordered = [flow[2].clone(), flow[0].clone()];
    store
        .replace_trigger_bindings("post-login", &reordered)
        .await
        .unwrap();
    assert_eq!(
        binding_ids(&store.trigger_bindings("post-login").await.unwrap()),
        ["bnd_b", "bnd_c"]
    );
    // Another trigger's flow is untouched.
    assert_eq!(
        store
            .trigger_bindings("credentials-exchange")
            .await
            .unwrap(),
        m2m
    );

    // A missing Action: refused, and the flow is as it was.
    let broken = [
        binding("bnd_x", "post-login", "act_1"),
        binding("bnd_y", "post-login", "act_missing"),
    ];
    assert_not_found(store.replace_trigger_bindings("post-login", &broken).await);
    assert_eq!(
        binding_ids(&store.trigger_bindings("post-login").await.unwrap()),
        ["bnd_b", "bnd_c"]
    );

    store
        .replace_trigger_bindings("post-login", &[])
        .await
        .unwrap();
    assert!(store
        .trigger_bindings("post-login")
        .await
        .unwrap()
        .is_empty());
}

pub async fn action_flow_joins_bindings_and_actions(store: &dyn Store) {
    let one = action("act_1", "One", T0);
    let two = action("act_2", "Two", T0 + 1);
    store.create_action(&one).await.unwrap();
    store.create_action(&two).await.unwrap();
    assert!(store.action_flow("post-login").await.unwrap().is_empty());
    let flow = [
        binding("bnd_2", "post-login", "act_2"),
        binding("bnd_1", "post-login", "act_1"),
    ];
    store
        .replace_trigger_bindings("post-login", &flow)
        .await
        .unwrap();
    assert_eq!(
        store.action_flow("post-login").await.unwrap(),
        vec![(flow[0].clone(), two), (flow[1].clone(), one.clone())]
    );
    // The flow sees the Action as it is now.
    let renamed = StoredAction {
        name: "Renamed".into(),
        ..one
    };
    store.update_action(&renamed).await.unwrap();
    assert_eq!(store.action_flow("post-login").await.unwrap()[1].1, renamed);
    assert!(store
        .action_flow("credentials-exchange")
        .await
        .unwrap()
        .is_empty());
}

pub async fn action_delete_cascades_bindings(store: &dyn Store) {
    store
        .create_action(&action("act_1", "One", T0))
        .await
        .unwrap();
    store
        .create_action(&action("act_2", "Two", T0))
        .await
        .unwrap();
    store
        .replace_trigger_bindings(
            "post-login",
            &[
                binding("bnd_1", "post-login", "act_1"),
                binding("bnd_2", "post-login", "act_2"),
            ],
        )
        .await
        .unwrap();
    store
        .replace_trigger_bindings(
            "credentials-exchange",
            &[binding("bnd_3", "credentials-exchange", "act_1")],
        )
        .await
        .unwrap();
    store.delete_action("act_1").await.unwrap();
    assert_eq!(
        binding_ids(&store.trigger_bindings("post-login").await.unwrap()),
        ["bnd_2"]
    );
    assert!(store
        .trigger_bindings("credentials-exchange")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.action_flow("post-login").await.unwrap().len(), 1);
}

pub async fn action_executions_round_trip_and_purge(store: &dyn Store) {
    let execution = |id: &str, at: i64| ActionExecution {
        id: id.into(),
        trigger_id: "post-login".into(),
        status: "final".into(),
        results: json!([{"action_name": "One", "error": null}]),
        created_at: at,
        updated_at: at,
    };
    let old = execution("exe_old", T0 - 11 * 86_400);
    let recent = execution("exe_new", T0 - 9 * 86_400);
    store.insert_action_execution(&old).await.unwrap();
    store.insert_action_execution(&recent).await.unwrap();
    assert_conflict(store.insert_action_execution(&recent).await);
    assert_eq!(
        store.action_execution("exe_new").await.unwrap(),
        Some(recent.clone())
    );
    assert!(store
        .action_execution("exe_missing")
        .await
        .unwrap()
        .is_none());

    // Kept ten days, like Auth0.
    let report = store.purge_expired(T0, 30 * 86_400, 100).await.unwrap();
    assert_eq!(report.action_executions, 1);
    assert!(store.action_execution("exe_old").await.unwrap().is_none());
    assert_eq!(
        store.action_execution("exe_new").await.unwrap(),
        Some(recent)
    );
}
