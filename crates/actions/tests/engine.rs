//! The engine against the limits an attacker (or a buggy Action) tries first,
//! and the Auth0 module shape.

use gatehouse_actions::{check, ActionError, Engine, Limits, Run, Trigger};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn engine() -> Engine {
    Engine::new(
        2,
        Limits {
            time: Duration::from_millis(300),
            memory_bytes: 16 * 1024 * 1024,
            stack_bytes: 256 * 1024,
        },
    )
}

fn post_login(code: &str) -> Run {
    Run {
        code: Arc::from(code),
        trigger: Trigger::PostLogin,
        event: json!({
            "user": { "user_id": "auth0|1", "email_verified": false },
            "authorization": { "roles": ["admin", "reader"] }
        }),
        secrets: vec![("API_KEY".into(), "s3cr3t-value".into())],
    }
}

const ROLES_ACTION: &str = r#"
exports.onExecutePostLogin = async (event, api) => {
  const ns = 'https://measurements.example/';
  api.accessToken.setCustomClaim(ns + 'roles', event.authorization.roles);
  api.idToken.setCustomClaim(ns + 'roles', event.authorization.roles);
  if (!event.user.email_verified) api.access.deny('Please verify your email first.');
};
"#;

#[tokio::test]
async fn records_the_quickstart_action_calls_in_order() {
    let output = engine().run(post_login(ROLES_ACTION)).await.unwrap();
    let methods: Vec<&str> = output.calls.iter().map(|c| c.method.as_str()).collect();
    assert_eq!(
        methods,
        [
            "accessToken.setCustomClaim",
            "idToken.setCustomClaim",
            "access.deny"
        ]
    );
    assert_eq!(
        output.calls[0].args,
        vec![
            json!("https://measurements.example/roles"),
            json!(["admin", "reader"])
        ]
    );
    assert_eq!(
        output.calls[2].args,
        vec![json!("Please verify your email first.")]
    );
}

#[tokio::test]
async fn module_exports_and_awaited_promises_work() {
    let code = r#"
      const helper = async (x) => { await null; return x * 2; };
      module.exports = { onExecutePostLogin: async (event, api) => {
        const n = await helper(21);
        api.accessToken.setCustomClaim('n', n);
      }};
    "#;
    let output = engine().run(post_login(code)).await.unwrap();
    assert_eq!(output.calls[0].args[1], json!(42));
}

#[tokio::test]
async fn secrets_reach_the_code_but_not_the_logs() {
    let code = r#"exports.onExecutePostLogin = async (event, api) => {
        console.log('key is', event.secrets.API_KEY);
        api.accessToken.setCustomClaim('len', event.secrets.API_KEY.length);
    };"#;
    let output = engine().run(post_login(code)).await.unwrap();
    assert_eq!(output.calls[0].args[1], json!(12));
    assert_eq!(output.logs[0].message, "key is [secret]");
    let thrown = "exports.onExecutePostLogin = async (event) => { throw new Error('bad ' + event.secrets.API_KEY); };";
    let err = engine().run(post_login(thrown)).await.unwrap_err();
    assert_eq!(err, ActionError::Threw("bad [secret]".into()));
}

#[tokio::test]
async fn each_execution_starts_from_fresh_globals() {
    let code = r#"exports.onExecutePostLogin = async (event, api) => {
        globalThis.count = (globalThis.count || 0) + 1;
        api.accessToken.setCustomClaim('count', globalThis.count);
    };"#;
    let engine = Engine::new(1, Limits::default());
    for _ in 0..3 {
        let output = engine.run(post_login(code)).await.unwrap();
        assert_eq!(output.calls[0].args[1], json!(1));
    }
}

#[tokio::test]
async fn an_endless_loop_is_stopped() {
    let err = engine()
        .run(post_login(
            "exports.onExecutePostLogin = async () => { while (true) {} };",
        ))
        .await
        .unwrap_err();
    assert_eq!(err, ActionError::Timeout(300));
}

#[tokio::test]
async fn an_endless_microtask_chain_is_stopped() {
    let code = "exports.onExecutePostLogin = async () => { for (;;) { await null; } };";
    let err = engine().run(post_login(code)).await.unwrap_err();
    assert_eq!(err, ActionError::Timeout(300));
}

#[tokio::test]
async fn a_huge_allocation_runs_out_of_memory() {
    let code = "exports.onExecutePostLogin = async () => { const a = []; for (;;) a.push(new Array(100000).fill(1)); };";
    let err = engine().run(post_login(code)).await.unwrap_err();
    assert_eq!(err, ActionError::OutOfMemory(16));
}

#[tokio::test]
async fn deep_recursion_overflows_the_stack_cleanly() {
    let code = "function f(n) { return f(n + 1) + 1; } exports.onExecutePostLogin = async () => { f(0); };";
    let err = engine().run(post_login(code)).await.unwrap_err();
    assert_eq!(err, ActionError::StackOverflow);
}

#[tokio::test]
async fn node_modules_and_process_exit_are_not_available() {
    let err = engine()
        .run(post_login(
            "const fs = require('fs'); exports.onExecutePostLogin = async () => {};",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ActionError::Threw(m) if m.contains("Cannot find module 'fs'")),
        "{err:?}"
    );
    let err = engine()
        .run(post_login(
            "exports.onExecutePostLogin = async () => { process.exit(1); };",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ActionError::Threw(m) if m.contains("process.exit()")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_thrown_error_and_a_missing_handler_are_reported() {
    let err = engine()
        .run(post_login(
            "exports.onExecutePostLogin = async () => { throw new TypeError('nope'); };",
        ))
        .await
        .unwrap_err();
    assert_eq!(err, ActionError::Threw("TypeError: nope".into()));
    let err = engine()
        .run(post_login(
            "exports.onExecuteCredentialsExchange = async () => {};",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ActionError::Threw(m) if m.contains("onExecutePostLogin")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_promise_that_never_settles_is_reported() {
    let code = "exports.onExecutePostLogin = () => new Promise(() => {});";
    let err = engine().run(post_login(code)).await.unwrap_err();
    assert_eq!(err, ActionError::NeverSettled);
}

#[tokio::test]
async fn a_worker_that_hit_a_limit_keeps_serving() {
    let engine = Engine::new(
        1,
        Limits {
            time: Duration::from_millis(200),
            ..Limits::default()
        },
    );
    let _ = engine
        .run(post_login(
            "exports.onExecutePostLogin = async () => { while (true) {} };",
        ))
        .await;
    let output = engine.run(post_login(ROLES_ACTION)).await.unwrap();
    assert_eq!(output.calls.len(), 3);
}

#[test]
fn check_reports_syntax_errors_with_their_line() {
    let err = check("exports.onExecutePostLogin = async (event, api) => {\n  const x = ;\n};")
        .unwrap_err();
    assert!(
        matches!(err, ActionError::Syntax { line: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn check_refuses_modules_and_accepts_the_quickstart() {
    assert_eq!(
        check("const axios = require('axios');\nexports.onExecutePostLogin = async () => {};"),
        Err(ActionError::ModuleNotAvailable("axios".into()))
    );
    check(ROLES_ACTION).unwrap();
}

#[tokio::test]
async fn a_flood_of_api_calls_fails_instead_of_reaching_the_host() {
    let code = "exports.onExecutePostLogin = async (event, api) => { for (let i = 0; i < 5000; i++) api.accessToken.setCustomClaim('c' + i, i); };";
    let err = engine().run(post_login(code)).await.unwrap_err();
    assert_eq!(
        err,
        ActionError::TooManyCalls(gatehouse_actions::MAX_API_CALLS)
    );
}

#[tokio::test]
async fn a_replaced_array_push_does_not_reach_the_record() {
    let code = r#"
      const push = Array.prototype.push;
      let stolen = [];
      Array.prototype.push = function (...items) { stolen.push === push || (stolen = stolen); stolen[stolen.length] = this; return push.apply(this, items); };
      exports.onExecutePostLogin = async (event, api) => {
        api.accessToken.setCustomClaim('a', 1);
        console.log('hello');
        for (const target of stolen) {
          for (let i = 0; i < 5000; i++) push.call(target, { method: 'accessToken.setCustomClaim', args: ['c' + i, i], level: 'log', message: 'x' });
        }
      };
    "#;
    let output = engine().run(post_login(code)).await.unwrap();
    assert_eq!(output.calls.len(), 1);
    assert_eq!(output.logs.len(), 1);
}

#[tokio::test]
async fn a_huge_thrown_message_is_cut_and_a_secret_at_the_cut_is_still_hidden() {
    let code = "exports.onExecutePostLogin = async (event) => { throw new Error('x'.repeat(995) + event.secrets.API_KEY + 'y'.repeat(1e6)); };";
    let err = engine().run(post_login(code)).await.unwrap_err();
    let ActionError::Threw(message) = err else {
        panic!("{err:?}")
    };
    assert!(message.chars().count() <= gatehouse_actions::MAX_ERROR_CHARS + 1);
    assert!(!message.contains("s3cr"), "{message}");

    let code = "exports.onExecutePostLogin = async (event) => { console.log('x'.repeat(1995) + event.secrets.API_KEY); };";
    let output = engine().run(post_login(code)).await.unwrap();
    let line = &output.logs[0].message;
    assert!(line.chars().count() <= gatehouse_actions::MAX_LOG_LINE_CHARS + 1);
    assert!(!line.contains("s3cr"), "{line}");
}

#[tokio::test]
async fn secrets_are_hidden_in_the_api_calls_too() {
    let code = "exports.onExecutePostLogin = async (event, api) => { api.user.setAppMetadata('k', { [event.secrets.API_KEY]: ['x' + event.secrets.API_KEY] }); api.access.deny('bad ' + event.secrets.API_KEY); };";
    let output = engine().run(post_login(code)).await.unwrap();
    let record = serde_json::to_string(&output.calls).unwrap();
    assert!(!record.contains("s3cr3t-value"), "{record}");
    assert_eq!(output.calls[1].args[0], json!("bad [secret]"));
}

fn one_worker() -> Engine {
    Engine::new(
        1,
        Limits {
            time: Duration::from_millis(200),
            ..Limits::default()
        },
    )
}

const ENDLESS: &str = "exports.onExecutePostLogin = async () => { while (true) {} };";

#[tokio::test]
async fn work_whose_requester_gave_up_is_skipped() {
    let engine = one_worker();
    let busy = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run(post_login(ENDLESS)).await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    for _ in 0..5 {
        let abandoned = engine.run(post_login(ENDLESS));
        let _ = tokio::time::timeout(Duration::from_millis(5), abandoned).await;
    }
    let started = std::time::Instant::now();
    engine.run(post_login(ROLES_ACTION)).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "waited {:?} behind abandoned work",
        started.elapsed()
    );
    assert_eq!(busy.await.unwrap(), Err(ActionError::Timeout(200)));
}

#[tokio::test]
async fn a_job_that_waits_too_long_for_a_worker_fails_as_busy() {
    let engine = one_worker();
    let mut queued = Vec::new();
    for _ in 0..12 {
        let engine = engine.clone();
        queued.push(tokio::spawn(async move {
            engine.run(post_login(ENDLESS)).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    // 12 endless loops are 2.4 s of work; no request waits more than 1 s for it.
    let started = std::time::Instant::now();
    let last = engine.run(post_login(ROLES_ACTION)).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "waited {:?}",
        started.elapsed()
    );
    let mut busy = usize::from(last.is_err());
    for job in queued {
        match job.await.unwrap() {
            Err(ActionError::Busy(1000)) => busy += 1,
            other => assert_eq!(other, Err(ActionError::Timeout(200))),
        }
    }
    assert!(busy >= 6, "{busy} failed as busy");
}

#[test]
fn a_run_in_a_log_line_names_its_secrets_but_hides_them() {
    let shown = format!("{:?}", post_login(ROLES_ACTION));
    assert!(shown.contains("API_KEY"), "{shown}");
    assert!(!shown.contains("s3cr3t-value"), "{shown}");
}
