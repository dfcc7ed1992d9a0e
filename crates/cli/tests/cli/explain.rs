//! `gatehouse explain` as a person runs it: on the data directory of a
//! running server, and against its URL with a management token; the output
//! in words (no colour off a terminal), `--json`, and bad input as one line
//! with exit status 2.

use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

const API: &str = "https://measurements.example/";
const M2M_SECRET: &str = "m2m-secret-with-enough-entropy-0123456789abcdef";

/// A served data directory seeded with an API and a machine client.
async fn seeded_server(tmp: &Path) -> (Server, PathBuf) {
    let data = tmp.join("data");
    let server = Server::start(gatehouse(
        tmp,
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            path_arg(&data),
        ],
    ));
    let seed = serde_json::json!({
        "apis": [{"name": "Measurements", "identifier": API, "enforce_policies": true,
                  "token_dialect": "access_token_authz",
                  "scopes": [{"value": "read:measurements"}, {"value": "write:measurements"}]}],
        "clients": [{"client_id": "nightly-sync", "name": "Nightly Sync",
                     "app_type": "non_interactive", "client_secret": M2M_SECRET}],
        "client_grants": [{"client_id": "nightly-sync", "audience": API,
                           "scope": ["read:measurements"]}]
    });
    let file = tmp.join("seed.json");
    std::fs::write(&file, seed.to_string()).unwrap();
    let out = gatehouse(
        tmp,
        &[
            "seed",
            "--file",
            path_arg(&file),
            "--data-dir",
            path_arg(&data),
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (server, data)
}

async fn machine_token(server: &Server, scope: &str) -> String {
    let reply: Value = http()
        .post(server.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nightly-sync"),
            ("client_secret", M2M_SECRET),
            ("audience", API),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_string()
}

fn run(tmp: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = gatehouse(tmp, args);
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn explains_a_token_locally_and_remotely_in_the_same_words() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, data) = seeded_server(tmp.path()).await;
    let token = machine_token(&server, "read:measurements").await;

    let (status, local, stderr) = run(
        tmp.path(),
        &["explain", &token, "--data-dir", path_arg(&data)],
        &[],
    );
    assert_eq!(status, 0, "{stderr}");
    for words in [
        "An access token for API Measurements (https://measurements.example/), issued to Nightly Sync for itself.",
        "ok   signature",
        "+ scope read:measurements: granted (client grant)",
        "client: Nightly Sync (nightly-sync)",
        "never issues refresh tokens",
    ] {
        assert!(local.contains(words), "{words:?} missing from:\n{local}");
    }
    assert!(
        !local.contains('\x1b'),
        "no colour off a terminal:\n{local}"
    );

    let (status, management, stderr) = run(
        tmp.path(),
        &["token", "--management", "--data-dir", path_arg(&data)],
        &[],
    );
    assert_eq!(status, 0, "{stderr}");
    let url = server.url("");
    let (status, remote, stderr) = run(
        tmp.path(),
        &["explain", &token, "--url", &url],
        &[("GATEHOUSE_MANAGEMENT_TOKEN", management.trim())],
    );
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(remote, local, "--url explains in the same words");

    let (status, json, stderr) = run(
        tmp.path(),
        &["explain", &token, "--json", "--data-dir", path_arg(&data)],
        &[],
    );
    assert_eq!(status, 0, "{stderr}");
    let trace: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(trace["audience"]["rule"], "audience_param");
    assert_eq!(trace["scopes"][0]["rule"], "client_grant");

    // Without a token, --url says where to get one.
    let (status, _, stderr) = run(tmp.path(), &["explain", &token, "--url", &url], &[]);
    assert_eq!(status, 2);
    assert!(stderr.contains("gatehouse token --management"), "{stderr}");
}

#[tokio::test]
async fn a_refusal_is_explained_from_its_log_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, data) = seeded_server(tmp.path()).await;
    let refused = http()
        .post(server.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nightly-sync"),
            ("client_secret", M2M_SECRET),
            ("audience", "https://measurements.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let log_id = refused.headers()["gatehouse-log-id"]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["error_description"],
        "Service not found: https://measurements.example"
    );
    let (status, out, stderr) = run(
        tmp.path(),
        &["explain", &log_id, "--data-dir", path_arg(&data)],
        &[],
    );
    assert_eq!(status, 0, "{stderr}");
    for words in [
        "x refused: Service not found: https://measurements.example.",
        "https://measurements.example/",
        "client: Nightly Sync (nightly-sync)",
    ] {
        assert!(out.contains(words), "{words:?} missing from:\n{out}");
    }
}

#[tokio::test]
async fn simulate_locally_and_remotely_without_issuing() {
    let tmp = tempfile::tempdir().unwrap();
    let (server, data) = seeded_server(tmp.path()).await;
    let simulate = [
        "explain",
        "--simulate",
        "--client",
        "nightly-sync",
        "--grant",
        "client_credentials",
        "--audience",
        API,
        "--scope",
        "read:measurements write:measurements",
    ];
    let local_args = [&simulate[..], &["--data-dir", path_arg(&data)]].concat();
    let (status, local, stderr) = run(tmp.path(), &local_args, &[]);
    assert_eq!(status, 0, "{stderr}");
    for words in [
        "Simulated client_credentials by Nightly Sync (nightly-sync): nothing was issued or logged.",
        "Refused: access_denied: Client has not been granted scopes: write:measurements",
        "- scope write:measurements: dropped (not in the client grant)",
    ] {
        assert!(local.contains(words), "{words:?} missing from:\n{local}");
    }

    let (_, management, _) = run(
        tmp.path(),
        &["token", "--management", "--data-dir", path_arg(&data)],
        &[],
    );
    let url = server.url("");
    let remote_args = [&simulate[..], &["--url", &url]].concat();
    let (status, remote, stderr) = run(
        tmp.path(),
        &remote_args,
        &[("GATEHOUSE_MANAGEMENT_TOKEN", management.trim())],
    );
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(remote, local, "--url simulates in the same words");

    let granted = [
        "explain",
        "--simulate",
        "--client",
        "nightly-sync",
        "--grant",
        "client_credentials",
        "--audience",
        API,
        "--json",
        "--data-dir",
        path_arg(&data),
    ];
    let (status, json, stderr) = run(tmp.path(), &granted, &[]);
    assert_eq!(status, 0, "{stderr}");
    let sim: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(sim["outcome"], "issued");
    assert_eq!(sim["access_token"]["claims"]["scope"], "read:measurements");
    assert_eq!(sim["access_token"]["claims"]["jti"], "(simulated)");

    let (status, _, stderr) = run(
        tmp.path(),
        &[
            "explain",
            "--simulate",
            "--client",
            "nobody",
            "--data-dir",
            path_arg(&data),
        ],
        &[],
    );
    assert_eq!(status, 2);
    assert!(
        stderr.contains("The client nobody does not exist."),
        "{stderr}"
    );
}

#[tokio::test]
async fn bad_input_is_one_line_and_exit_status_2() {
    let tmp = tempfile::tempdir().unwrap();
    let (_server, data) = seeded_server(tmp.path()).await;
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#)
    );
    let garbage = "#".repeat(100_000);
    for (input, words) in [
        ("", "the input is empty"),
        (garbage.as_str(), "100000 bytes long"),
        (unsigned.as_str(), "alg \"none\""),
        (
            "90020261201000000000deadbeef00",
            "nothing of this tenant is",
        ),
    ] {
        let (status, stdout, stderr) = run(
            tmp.path(),
            &["explain", input, "--data-dir", path_arg(&data)],
            &[],
        );
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(status, 2, "{input:.20}: {stderr}");
        assert_eq!(lines.len(), 1, "{input:.20}: one line: {stderr}");
        assert!(lines[0].starts_with("gatehouse: error: "), "{stderr}");
        assert!(lines[0].contains(words), "{input:.20}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
    }
}
