//! `gatehouse actions deploy`: a JavaScript file becomes a deployed Action
//! bound to its trigger; a second deploy updates it in place; a syntax error
//! names its line and exits 2; secret values are sealed and never printed.

use crate::{gatehouse, path_arg};
use gatehouse_core::sealing::MasterKey;
use gatehouse_store::Page;

const SECRET_VALUE: &str = "cli-secret-do-not-print-777";
const ROLES: &str = "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.setCustomClaim('https://measurements.example/roles', event.authorization.roles);\n};\n";

fn run(cwd: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = gatehouse(cwd, args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploys_binds_updates_and_refuses_syntax_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (status, _, stderr) = run(dir, &["migrate", "--data-dir", "data"]);
    assert_eq!(status, 0, "{stderr}");
    let key = MasterKey::generate();
    let key_file = dir.join("master.key");
    std::fs::write(&key_file, key.to_text()).unwrap();
    let code_file = dir.join("add-roles.js");
    std::fs::write(&code_file, ROLES).unwrap();
    let secret = format!("API_KEY={SECRET_VALUE}");
    let deploy = |extra: &[&str]| {
        let mut args = vec![
            "actions",
            "deploy",
            path_arg(&code_file),
            "--trigger",
            "post-login",
            "--data-dir",
            "data",
            "--master-key-file",
            path_arg(&key_file),
        ];
        args.extend_from_slice(extra);
        run(dir, &args)
    };

    let (status, stdout, stderr) = deploy(&["--secret", &secret]);
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stdout.contains("created the Action 'add-roles'"),
        "{stdout}"
    );
    assert!(stdout.contains("deployed version 1"), "{stdout}");
    assert!(stdout.contains("bound to post-login"), "{stdout}");
    assert!(!stdout.contains(SECRET_VALUE) && !stderr.contains(SECRET_VALUE));

    // Again, with new code: updated in place, version 2, still bound once.
    let changed = ROLES.replace("roles'", "groups'");
    std::fs::write(&code_file, &changed).unwrap();
    let (status, stdout, stderr) = deploy(&[]);
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stdout.contains("updated the Action 'add-roles'"),
        "{stdout}"
    );
    assert!(stdout.contains("deployed version 2"), "{stdout}");
    assert!(stdout.contains("already bound to post-login"), "{stdout}");

    // A syntax error: its line, exit 2, the deployed version untouched.
    std::fs::write(
        &code_file,
        "exports.onExecutePostLogin = async (event, api) => {\n  api.accessToken.setCustomClaim('x', ;\n};\n",
    )
    .unwrap();
    let (status, _, stderr) = deploy(&[]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("syntax error on line 2"), "{stderr}");

    let (status, _, stderr) = run(
        dir,
        &[
            "actions",
            "deploy",
            path_arg(&code_file),
            "--trigger",
            "nope",
            "--data-dir",
            "data",
        ],
    );
    assert_eq!(status, 2);
    assert!(stderr.contains("unknown trigger"), "{stderr}");

    let url = format!("sqlite:{}", dir.join("data").join("gatehouse.db").display());
    let store = gatehouse_store::open(&url).await.unwrap();
    let actions = store.actions(Page::ALL).await.unwrap();
    assert_eq!(actions.len(), 1);
    let action = &actions[0];
    let deployed = action.deployed.as_ref().unwrap();
    assert_eq!(deployed.number, 2);
    assert_eq!(deployed.code, changed);
    assert_eq!(action.secrets.len(), 1);
    assert!(!action.secrets[0].sealed_value.contains(SECRET_VALUE));
    let opened =
        gatehouse_server::actions_admin::unseal_secrets(&key, &action.id, &deployed.secrets)
            .unwrap();
    assert_eq!(opened, [("API_KEY".to_string(), SECRET_VALUE.to_string())]);
    let flow = store.action_flow("post-login").await.unwrap();
    assert_eq!(flow.len(), 1);
    assert_eq!(flow[0].0.display_name, "add-roles");

    // `keys rewrap` re-seals the Action secrets with the signing keys, and
    // the email provider's SMTP password.
    use gatehouse_server::email::settings::{self, EmailProvider};
    let provider = EmailProvider {
        enabled: true,
        default_from_address: None,
        smtp_host: "smtp.example.com".into(),
        smtp_port: 587,
        smtp_user: Some("mailer".into()),
        smtp_pass_sealed: Some(settings::seal_password(&key, "smtp-secret")),
    };
    settings::store_provider(store.as_ref(), &provider)
        .await
        .unwrap();
    let new_key_file = dir.join("new.key");
    let (status, stdout, stderr) = run(
        dir,
        &[
            "keys",
            "rewrap",
            "--data-dir",
            "data",
            "--master-key-file",
            path_arg(&key_file),
            "--new-master-key-file",
            path_arg(&new_key_file),
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("the secrets of 1 Actions"), "{stdout}");
    let new_key = MasterKey::parse(std::fs::read_to_string(&new_key_file).unwrap().trim()).unwrap();
    let action = store.action(&action.id).await.unwrap().unwrap();
    for secrets in [&action.secrets, &action.deployed.as_ref().unwrap().secrets] {
        let opened =
            gatehouse_server::actions_admin::unseal_secrets(&new_key, &action.id, secrets).unwrap();
        assert_eq!(opened[0].1, SECRET_VALUE);
        assert!(
            gatehouse_server::actions_admin::unseal_secrets(&key, &action.id, secrets).is_err()
        );
    }
    let provider = settings::stored_provider(store.as_ref())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        provider
            .smtp_settings(&new_key)
            .unwrap()
            .password
            .as_deref(),
        Some("smtp-secret")
    );
    assert!(provider.smtp_settings(&key).is_err());
}
