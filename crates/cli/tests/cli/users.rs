//! `gatehouse users add | set-password` apply the database connection's
//! password policy, with the pages' words, and write nothing they refuse.

use super::gatehouse;
use serde_json::Value;
use std::path::Path;

/// `gatehouse users <args> --data-dir <data> --json`: (success, stdout, stderr).
fn users(cwd: &Path, data: &Path, args: &[&str]) -> (bool, String, String) {
    let mut all = vec!["users"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data-dir", data.to_str().expect("utf-8 path"), "--json"]);
    let output = gatehouse(cwd, &all).output().expect("run gatehouse users");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn users_commands_apply_the_password_policy() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let data = dir.join("data");
    let data_arg = data.to_str().expect("utf-8 path");
    let migrated = gatehouse(dir, &["migrate", "--data-dir", data_arg])
        .output()
        .expect("run migrate");
    assert!(migrated.status.success(), "{migrated:?}");

    let add = |password: &str| {
        users(
            dir,
            &data,
            &["add", "--email", "ann@example.com", "--password", password],
        )
    };
    let (ok, _, err) = add("short");
    assert!(!ok);
    assert!(
        err.contains("Password is too weak") && err.contains("At least 8 characters in length"),
        "{err}"
    );
    let (ok, _, err) = add("PASSWORD123");
    assert!(!ok);
    assert!(err.contains("Password is too common"), "{err}");
    let (_, listed, _) = users(dir, &data, &["list"]);
    assert!(
        !listed.contains("ann@example.com"),
        "nothing written: {listed}"
    );

    // Without --password, a generated one that meets the policy is printed.
    let (ok, out, err) = users(dir, &data, &["add", "--email", "ann@example.com"]);
    assert!(ok, "{err}");
    let row: Value = serde_json::from_str(&out).expect("json");
    assert!(row[0]["password"].as_str().expect("password").len() >= 20);

    let (ok, _, err) = users(dir, &data, &["set-password", "ann@example.com", "iloveyou"]);
    assert!(!ok);
    assert!(err.contains("Password is too common"), "{err}");
    let (ok, _, err) = users(
        dir,
        &data,
        &["set-password", "ann@example.com", "a fine long passphrase"],
    );
    assert!(ok, "{err}");
}
