//! `/api/v2/actions/*`: Actions, deploy, test, triggers, bindings and
//! executions in Auth0's shapes; scopes; and what must never happen: a
//! secret value in any reply or log event, a syntax error or a `require`
//! deployed, an undeployed Action bound, a bound Action deleted by accident.

use super::{assert_mgmt_error, Mgmt};
use gatehouse_store::ActionExecution;
use reqwest::Method;
use serde_json::{json, Value};

const SECRET: &str = "sk_live_do-not-leak-4242";
const ROLES_CODE: &str = "exports.onExecutePostLogin = async (event, api) => {\n  const ns = 'https://measurements.example/';\n  api.accessToken.setCustomClaim(ns + 'roles', event.authorization.roles);\n  api.idToken.setCustomClaim(ns + 'roles', event.authorization.roles);\n  if (!event.user.email_verified) api.access.deny('Please verify your email first.');\n};\n";

fn roles_action(name: &str) -> Value {
    json!({
        "name": name,
        "supported_triggers": [{"id": "post-login", "version": "v3"}],
        "code": ROLES_CODE,
        "dependencies": [],
        "runtime": "node22",
        "secrets": [{"name": "API_KEY", "value": SECRET}],
    })
}

async fn create(m: &Mgmt, body: Value) -> Value {
    let r = m.post("/actions/actions", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(!r.text.contains(SECRET), "{}", r.text);
    r.body
}

async fn deploy(m: &Mgmt, id: &str) -> Value {
    let r = m
        .post(&format!("/actions/actions/{id}/deploy"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains(SECRET), "{}", r.text);
    r.body
}

#[tokio::test]
async fn actions_crud_in_auth0_shapes() {
    let m = Mgmt::start().await;
    let action = create(&m, roles_action("Add roles")).await;
    let id = action["id"].as_str().unwrap().to_string();
    assert_eq!(action["name"], "Add roles");
    assert_eq!(
        action["supported_triggers"],
        json!([{"id": "post-login", "version": "v3"}])
    );
    assert_eq!(action["code"], ROLES_CODE);
    assert_eq!(action["runtime"], "node22");
    assert_eq!(action["dependencies"], json!([]));
    assert_eq!(action["status"], "built");
    assert_eq!(action["all_changes_deployed"], false);
    assert!(action.get("deployed_version").is_none());
    assert_eq!(action["secrets"][0]["name"], "API_KEY");
    assert!(action["secrets"][0]["updated_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert!(action["secrets"][0].get("value").is_none());
    assert!(action["created_at"].as_str().unwrap().contains('T'));

    // Defaults: runtime node22, version from the trigger.
    let m2m = create(
        &m,
        json!({"name": "M2M claim", "supported_triggers": [{"id": "credentials-exchange"}],
               "code": "exports.onExecuteCredentialsExchange = async (event, api) => { api.accessToken.setCustomClaim('https://x/tier', 'gold'); };"}),
    )
    .await;
    assert_eq!(m2m["runtime"], "node22");
    assert_eq!(m2m["supported_triggers"][0]["version"], "v2");

    let r = m.get(&format!("/actions/actions/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, action);

    // List with Auth0's envelope and filters.
    let r = m.get("/actions/actions").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 2);
    assert_eq!(r.body["page"], 0);
    assert_eq!(r.body["per_page"], 50);
    let mut names: Vec<&str> = r.body["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Add roles", "M2M claim"]);
    let first = r.body["actions"][0]["id"].clone();
    let r = m
        .get("/actions/actions?triggerId=credentials-exchange")
        .await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["actions"][0]["name"], "M2M claim");
    let r = m.get("/actions/actions?actionName=Add%20roles").await;
    assert_eq!(r.body["actions"][0]["id"], id.as_str());
    let r = m.get("/actions/actions?deployed=true").await;
    assert_eq!(r.body["total"], 0);
    let r = m.get("/actions/actions?per_page=1&page=1").await;
    assert_eq!(r.body["actions"].as_array().unwrap().len(), 1);
    assert_ne!(r.body["actions"][0]["id"], first);
    assert!(!r.text.contains(SECRET));

    // PATCH merges; the secrets list replaces; no value keeps the old one.
    let r = m
        .patch(
            &format!("/actions/actions/{id}"),
            json!({"name": "Roles in tokens", "secrets": [{"name": "API_KEY"}, {"name": "OTHER", "value": "x-other"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Roles in tokens");
    assert_eq!(r.body["code"], ROLES_CODE);
    assert_eq!(r.body["secrets"].as_array().unwrap().len(), 2);
    assert!(!r.text.contains(SECRET) && !r.text.contains("x-other"));
    let r = m
        .patch(
            &format!("/actions/actions/{id}"),
            json!({"secrets": [{"name": "NEW"}]}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");

    // Names are unique.
    let r = m.post("/actions/actions", roles_action("M2M claim")).await;
    assert_mgmt_error(&r, 409, "action_conflict");
    let r = m
        .patch(
            &format!("/actions/actions/{id}"),
            json!({"name": "M2M claim"}),
        )
        .await;
    assert_mgmt_error(&r, 409, "action_conflict");

    let r = m.delete(&format!("/actions/actions/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = m.get(&format!("/actions/actions/{id}")).await;
    assert_mgmt_error(&r, 404, "inexistent_action");
    let r = m.delete(&format!("/actions/actions/{id}")).await;
    assert_mgmt_error(&r, 404, "inexistent_action");
    m.server.stop().await;
}

#[tokio::test]
async fn create_refuses_bad_actions() {
    let m = Mgmt::start().await;
    let cases = [
        json!({"name": "", "supported_triggers": [{"id": "post-login"}], "code": ""}),
        json!({"name": "x".repeat(101), "supported_triggers": [{"id": "post-login"}], "code": ""}),
        json!({"name": "a", "supported_triggers": [], "code": ""}),
        json!({"name": "a", "supported_triggers": [{"id": "post-login"}, {"id": "credentials-exchange"}], "code": ""}),
        json!({"name": "a", "supported_triggers": [{"id": "send-phone-message"}], "code": ""}),
        json!({"name": "a", "supported_triggers": [{"id": "post-login"}], "code": "//".repeat(60 * 1024)}),
        json!({"name": "a", "supported_triggers": [{"id": "post-login"}], "code": "", "dependencies": [{"name": "axios", "version": "1.0.0"}]}),
        json!({"name": "a", "supported_triggers": [{"id": "post-login"}], "code": "", "runtime": "node12"}),
        json!({"name": "a", "supported_triggers": [{"id": "post-login"}], "code": "", "secrets": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}),
        json!({"name": "a", "supported_triggers": [{"id": "post-login"}], "code": "", "secrets": [{"name": "", "value": "1"}]}),
        json!({"name": "a", "supported_triggers": [{"id": "post-login"}], "code": "", "surprise": true}),
        json!({"supported_triggers": [{"id": "post-login"}], "code": ""}),
    ];
    for body in cases {
        let r = m.post("/actions/actions", body.clone()).await;
        assert_mgmt_error(&r, 400, "invalid_body");
    }
    let r = m
        .post(
            "/actions/actions",
            json!({"name": "a", "supported_triggers": [{"id": "post-login"}], "code": "", "dependencies": [{"name": "axios"}]}),
        )
        .await;
    assert!(
        r.body["message"].as_str().unwrap().contains("npm"),
        "{}",
        r.text
    );
    let r = m.raw(Method::POST, "/actions/actions", "{not json").await;
    assert_mgmt_error(&r, 400, "invalid_json");
    let r = m.get("/actions/actions").await;
    assert_eq!(r.body["total"], 0);
    m.server.stop().await;
}

#[tokio::test]
async fn deploy_compiles_first_and_freezes_a_version() {
    let m = Mgmt::start().await;
    let action = create(&m, roles_action("Add roles")).await;
    let id = action["id"].as_str().unwrap();
    let version = deploy(&m, id).await;
    assert_eq!(version["number"], 1);
    assert_eq!(version["deployed"], true);
    assert_eq!(version["status"], "built");
    assert_eq!(version["action_id"], id);
    assert_eq!(version["code"], ROLES_CODE);
    assert_eq!(version["runtime"], "node22");
    assert_eq!(version["secrets"][0]["name"], "API_KEY");
    assert_eq!(
        version["supported_triggers"],
        json!([{"id": "post-login", "version": "v3"}])
    );

    let r = m.get(&format!("/actions/actions/{id}")).await;
    assert_eq!(r.body["all_changes_deployed"], true);
    assert_eq!(r.body["deployed_version"]["number"], 1);

    // A syntax error: refused with its line; the deployed version stays.
    let broken = "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.setCustomClaim('x', ;\n};\n";
    let r = m
        .patch(&format!("/actions/actions/{id}"), json!({"code": broken}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["all_changes_deployed"], false);
    let r = m
        .post(&format!("/actions/actions/{id}/deploy"), json!({}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_code");
    let message = r.body["message"].as_str().unwrap();
    assert!(message.contains("syntax error on line 2"), "{message}");
    let r = m.get(&format!("/actions/actions/{id}")).await;
    assert_eq!(r.body["deployed_version"]["number"], 1);
    assert_eq!(r.body["deployed_version"]["code"], ROLES_CODE);

    // A module Gatehouse does not have.
    let r = m
        .patch(
            &format!("/actions/actions/{id}"),
            json!({"code": "const fs = require('fs');\nexports.onExecutePostLogin = async () => {};"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = m
        .post(&format!("/actions/actions/{id}/deploy"), json!({}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_code");
    assert!(
        r.body["message"].as_str().unwrap().contains("'fs'"),
        "{}",
        r.text
    );

    // Fixed: version 2.
    let r = m
        .patch(
            &format!("/actions/actions/{id}"),
            json!({"code": "exports.onExecutePostLogin = async () => {};"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(deploy(&m, id).await["number"], 2);

    let r = m
        .post("/actions/actions/act_missing/deploy", json!({}))
        .await;
    assert_mgmt_error(&r, 404, "inexistent_action");
    m.server.stop().await;
}

#[tokio::test]
async fn triggers_and_bindings() {
    let m = Mgmt::start().await;
    let r = m.get("/actions/triggers").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let triggers = r.body["triggers"].as_array().unwrap();
    let ids: Vec<&str> = triggers.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "post-login",
            "credentials-exchange",
            "pre-user-registration"
        ]
    );
    assert_eq!(triggers[0]["version"], "v3");
    assert_eq!(triggers[0]["status"], "CURRENT");
    assert_eq!(triggers[0]["default_runtime"], "node22");
    assert_eq!(triggers[0]["runtimes"], json!(["node18", "node22"]));
    assert_eq!(triggers[0]["compatible_triggers"], json!([]));

    let roles = create(&m, roles_action("Add roles")).await;
    let roles_id = roles["id"].as_str().unwrap();
    let trim = create(
        &m,
        json!({"name": "Trim scopes", "supported_triggers": [{"id": "post-login", "version": "v3"}],
               "code": "exports.onExecutePostLogin = async (event, api) => { api.accessToken.removeScope('write:measurements'); };"}),
    )
    .await;
    let trim_id = trim["id"].as_str().unwrap();
    let m2m = create(
        &m,
        json!({"name": "M2M", "supported_triggers": [{"id": "credentials-exchange"}], "code": ""}),
    )
    .await;

    let r = m.get("/actions/triggers/post-login/bindings").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["bindings"], json!([]));
    assert_eq!(r.body["total"], 0);

    let path = "/actions/triggers/post-login/bindings";
    let by_id = |id: &str| json!({"ref": {"type": "action_id", "value": id}});
    // Never deployed: refused.
    let r = m.patch(path, json!({"bindings": [by_id(roles_id)]})).await;
    assert_mgmt_error(&r, 400, "invalid_body");
    assert!(r.body["message"].as_str().unwrap().contains("deploy"));

    deploy(&m, roles_id).await;
    deploy(&m, trim_id).await;
    deploy(&m, m2m["id"].as_str().unwrap()).await;
    let r = m
        .patch(
            path,
            json!({"bindings": [
                {"ref": {"type": "action_name", "value": "Trim scopes"}, "display_name": "Trim"},
                by_id(roles_id),
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains(SECRET), "{}", r.text);
    let bindings = r.body["bindings"].as_array().unwrap();
    assert_eq!(bindings.len(), 2);
    assert_eq!(bindings[0]["display_name"], "Trim");
    assert_eq!(bindings[0]["trigger_id"], "post-login");
    assert_eq!(bindings[0]["action"]["name"], "Trim scopes");
    assert_eq!(bindings[1]["display_name"], "Add roles");
    assert_eq!(bindings[1]["action"]["id"], roles_id);
    let roles_binding = bindings[1]["id"].as_str().unwrap().to_string();

    // Reordered by binding id: the binding keeps its id.
    let r = m
        .patch(
            path,
            json!({"bindings": [{"ref": {"type": "binding_id", "value": roles_binding}}, by_id(trim_id)]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["bindings"][0]["id"], roles_binding.as_str());
    let r = m.get(path).await;
    assert_eq!(r.body["total"], 2);
    assert_eq!(r.body["bindings"][0]["action"]["name"], "Add roles");
    assert_eq!(r.body["bindings"][1]["action"]["name"], "Trim scopes");
    assert!(!r.text.contains(SECRET), "{}", r.text);

    // Refused: unknown, wrong trigger, duplicate, too many, bad ref type.
    let refused = [
        json!({"bindings": [by_id("act_missing")]}),
        json!({"bindings": [by_id(m2m["id"].as_str().unwrap())]}),
        json!({"bindings": [by_id(roles_id), by_id(roles_id)]}),
        json!({"bindings": (0..11).map(|_| by_id(roles_id)).collect::<Vec<_>>()}),
        json!({"bindings": [{"ref": {"type": "action_uuid", "value": roles_id}}]}),
    ];
    for body in refused {
        let r = m.patch(path, body).await;
        assert_mgmt_error(&r, 400, "invalid_body");
    }
    let r = m.get(path).await;
    assert_eq!(r.body["total"], 2, "refusals change nothing");

    let r = m.get("/actions/triggers/send-phone-message/bindings").await;
    assert_mgmt_error(&r, 404, "inexistent_trigger");
    let r = m
        .patch("/actions/triggers/nope/bindings", json!({"bindings": []}))
        .await;
    assert_mgmt_error(&r, 404, "inexistent_trigger");

    // A bound Action is not deleted without force; with force, it is unbound.
    let r = m.delete(&format!("/actions/actions/{roles_id}")).await;
    assert_mgmt_error(&r, 409, "action_bound");
    let r = m.get(path).await;
    assert_eq!(r.body["total"], 2);
    let r = m
        .delete(&format!("/actions/actions/{roles_id}?force=true"))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = m.get(path).await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["bindings"][0]["action"]["name"], "Trim scopes");

    // Moving a bound Action to another trigger is refused.
    let r = m
        .patch(
            &format!("/actions/actions/{trim_id}"),
            json!({"supported_triggers": [{"id": "credentials-exchange"}]}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");

    // An empty list empties the flow.
    let r = m.patch(path, json!({"bindings": []})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["bindings"], json!([]));
    m.server.stop().await;
}

#[tokio::test]
async fn test_runs_the_current_code_without_leaking_secrets() {
    let m = Mgmt::start().await;
    let code = "exports.onExecutePostLogin = async (event, api) => {\n  console.log('key is', event.secrets.API_KEY, 'for', event.user.email);\n  api.accessToken.setCustomClaim('https://x/roles', event.authorization.roles);\n  api.idToken.setCustomClaim('https://x/key', event.secrets.API_KEY);\n};\n";
    let mut body = roles_action("Echo");
    body["code"] = json!(code);
    let action = create(&m, body).await;
    let id = action["id"].as_str().unwrap();
    let event = json!({"user": {"email": "ada@example.com", "email_verified": true}, "authorization": {"roles": ["admin"]}});
    let r = m
        .post(
            &format!("/actions/actions/{id}/test"),
            json!({"payload": event}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains(SECRET), "{}", r.text);
    let calls = r.body["payload"]["calls"].as_array().unwrap();
    assert_eq!(calls[0]["method"], "accessToken.setCustomClaim");
    assert_eq!(calls[0]["args"], json!(["https://x/roles", ["admin"]]));
    assert_eq!(calls[1]["args"][1], "[secret]");
    let logs = r.body["payload"]["logs"].as_array().unwrap();
    assert!(logs[0]["message"]
        .as_str()
        .unwrap()
        .contains("ada@example.com"));
    assert!(r.body["payload"].get("error").is_none());

    // A failing run: the error, cleanly.
    let r = m
        .patch(
            &format!("/actions/actions/{id}"),
            json!({"code": "exports.onExecutePostLogin = async (event) => { throw new Error('boom ' + event.secrets.API_KEY); };"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = m
        .post(
            &format!("/actions/actions/{id}/test"),
            json!({"payload": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains(SECRET), "{}", r.text);
    let error = r.body["payload"]["error"]["message"].as_str().unwrap();
    assert!(error.contains("boom"), "{error}");
    let r = m
        .patch(
            &format!("/actions/actions/{id}"),
            json!({"code": "exports.onExecutePostLogin = async () => { while (true) {} };"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = m
        .post(
            &format!("/actions/actions/{id}/test"),
            json!({"payload": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["payload"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("longer than"));
    let r = m
        .post(
            &format!("/actions/actions/{id}/test"),
            json!({"payload": 1}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");

    // Nothing of the secret in the log events of all these writes.
    let r = m.get("/logs?per_page=50").await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("/api/v2/actions/actions"), "{}", r.text);
    assert!(!r.text.contains(SECRET), "{}", r.text);
    m.server.stop().await;
}

#[tokio::test]
async fn executions_by_id() {
    let m = Mgmt::start().await;
    let now = m.server.state.now();
    m.server
        .store
        .insert_action_execution(&ActionExecution {
            id: "exe_1".into(),
            trigger_id: "post-login".into(),
            status: "final".into(),
            results: json!([{"action_name": "Add roles", "error": null}]),
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    let r = m.get("/actions/executions/exe_1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], "exe_1");
    assert_eq!(r.body["trigger_id"], "post-login");
    assert_eq!(r.body["status"], "final");
    assert_eq!(r.body["results"][0]["action_name"], "Add roles");
    assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
    let r = m.get("/actions/executions/exe_missing").await;
    assert_mgmt_error(&r, 404, "inexistent_execution");
    m.server.stop().await;
}

#[tokio::test]
async fn actions_scopes_are_required() {
    let m = Mgmt::start().await;
    let action = create(&m, roles_action("Add roles")).await;
    let id = action["id"].as_str().unwrap();
    let token = m.token_with(&["read:users", "read:clients"]).await;
    let calls = [
        (Method::GET, "/actions/actions".to_string(), None),
        (
            Method::POST,
            "/actions/actions".to_string(),
            Some(roles_action("x")),
        ),
        (Method::GET, format!("/actions/actions/{id}"), None),
        (
            Method::PATCH,
            format!("/actions/actions/{id}"),
            Some(json!({"name": "y"})),
        ),
        (Method::DELETE, format!("/actions/actions/{id}"), None),
        (Method::POST, format!("/actions/actions/{id}/deploy"), None),
        (
            Method::POST,
            format!("/actions/actions/{id}/test"),
            Some(json!({"payload": {}})),
        ),
        (Method::GET, "/actions/triggers".to_string(), None),
        (
            Method::GET,
            "/actions/triggers/post-login/bindings".to_string(),
            None,
        ),
        (
            Method::PATCH,
            "/actions/triggers/post-login/bindings".to_string(),
            Some(json!({"bindings": []})),
        ),
        (Method::GET, "/actions/executions/exe_1".to_string(), None),
    ];
    for (method, path, body) in calls {
        let r = m.call_as(Some(&token), method.clone(), &path, body).await;
        assert_mgmt_error(&r, 403, "insufficient_scope");
        let r = m.call_as(None, method, &path, None).await;
        assert_mgmt_error(&r, 401, "invalid_token");
    }
    // Read only: reads, but no writes.
    let reader = m.token_with(&["read:actions"]).await;
    let r = m
        .call_as(
            Some(&reader),
            Method::GET,
            &format!("/actions/actions/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains(SECRET));
    let r = m
        .call_as(
            Some(&reader),
            Method::DELETE,
            &format!("/actions/actions/{id}"),
            None,
        )
        .await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    m.server.stop().await;
}

/// A tenant bootstrapped before Actions: its system API gains the Actions
/// scopes on the next start, and so does a client grant that held every
/// management scope (the bootstrap client's); a narrowed grant does not.
#[tokio::test]
async fn an_older_tenant_gets_the_actions_scopes() {
    use gatehouse_core::model::{
        AppType, Client, ClientGrant, ResourceServer, ScopeDefinition, SubjectType,
    };
    use gatehouse_server::bootstrap::{bootstrap, BootstrapOptions};
    use gatehouse_server::routes::management::scopes;
    use gatehouse_store::StoredClient;
    let server = crate::support::TestServer::start().await;
    let store = server.store.as_ref();
    let audience = format!("{}api/v2/", server.issuer);
    let before: Vec<String> = scopes::names()
        .into_iter()
        .filter(|s| !s.ends_with(":actions"))
        .collect();
    let mut old = ResourceServer::new("rs_old_system", "Management", audience.clone());
    old.is_system = true;
    old.scopes = before
        .iter()
        .map(|value| ScopeDefinition {
            value: value.clone(),
            description: String::new(),
        })
        .collect();
    store.create_resource_server(&old, 0).await.unwrap();
    for (client_id, scope) in [
        ("full-admin", before.clone()),
        ("narrow", vec!["read:users".to_string()]),
    ] {
        store
            .create_client(
                &StoredClient {
                    client: Client::new(client_id, client_id, AppType::NonInteractive),
                    secret_hash: None,
                },
                0,
            )
            .await
            .unwrap();
        store
            .create_client_grant(
                &ClientGrant {
                    id: format!("cgr_{client_id}"),
                    client_id: Some(client_id.into()),
                    default_for: None,
                    audience: audience.clone(),
                    scope,
                    subject_type: SubjectType::Client,
                    allow_all_scopes: false,
                },
                0,
            )
            .await
            .unwrap();
    }

    bootstrap(store, &server.issuer, BootstrapOptions::default(), 0)
        .await
        .unwrap();
    let upgraded = store
        .resource_server("rs_old_system")
        .await
        .unwrap()
        .unwrap();
    let full = store.client_grant("cgr_full-admin").await.unwrap().unwrap();
    let narrow = store.client_grant("cgr_narrow").await.unwrap().unwrap();
    for scope in [
        "read:actions",
        "create:actions",
        "update:actions",
        "delete:actions",
    ] {
        assert!(upgraded.defines_scope(scope), "{scope}");
        assert!(full.scope.iter().any(|s| s == scope), "{scope}");
        assert!(!narrow.scope.iter().any(|s| s == scope), "{scope}");
    }
    assert_eq!(narrow.scope, ["read:users"]);
    server.stop().await;
}
