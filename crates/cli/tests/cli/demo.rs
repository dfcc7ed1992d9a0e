//! `gatehouse serve --demo`: its own data directory, seed 000's world, the
//! banner with the passwords, the demo page and its guarded API; never on a
//! directory that holds a real tenant. The browser story (alice reads, bob
//! is refused, the explanation) is e2e/tests/demo.test.mjs.

use super::*;

/// The banner's "… in as <name>@example.com (password <password>)".
fn printed_password(lines: &[String], name: &str) -> String {
    let marker = format!("in as {name}@example.com (password ");
    lines
        .iter()
        .find_map(|line| {
            let rest = &line[line.find(&marker)? + marker.len()..];
            Some(rest[..rest.find(')')?].to_string())
        })
        .unwrap_or_else(|| panic!("no password for {name} in {lines:?}"))
}

fn start_demo(cwd: &Path, extra: &[&str]) -> (Server, Vec<String>) {
    let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut server = Server::start(gatehouse(cwd, &args));
    server
        .process
        .wait_for_line(|l| l.starts_with("Start over"), START_TIMEOUT)
        .expect("the demo banner ends with how to start over");
    let lines = server.process.stdout_seen.clone();
    (server, lines)
}

#[tokio::test]
async fn demo_serves_seed_000_in_its_own_directory() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (server, banner) = start_demo(tmp.path(), &["--demo"]);
    let text = banner.join("\n");
    assert!(text.contains("DEMO MODE"), "{text}");
    assert!(
        text.contains(&format!("Open {}demo", server.issuer)),
        "{text}"
    );
    let alice = printed_password(&banner, "alice");
    let bob = printed_password(&banner, "bob");
    assert_ne!(alice, bob);
    let marker = tmp
        .path()
        .join("gatehouse-demo")
        .join("gatehouse-demo.json");
    assert!(
        marker.is_file(),
        "the default demo directory is ./gatehouse-demo"
    );

    let client = http();
    let page = client
        .get(server.url("/demo"))
        .send()
        .await
        .expect("GET /demo");
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("/demo/auth0-spa-js.js"), "{html}");
    let script = client
        .get(server.url("/demo/auth0-spa-js.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("createAuth0Client"));
    let (status, config) = get_json(&server.url("/demo/config.json")).await;
    assert_eq!(status, 200);
    assert_eq!(config["audience"], "https://measurements.example/api");

    // The demo API answers as the guard does: RFC 6750, never the data.
    let no_token = client
        .get(server.url("/demo/api/measurements"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    assert_eq!(
        no_token.headers()["www-authenticate"],
        "Bearer realm=\"https://measurements.example/api\""
    );
    for path in ["/demo/api/measurements", "/demo/api/explain"] {
        let forged = client
            .request(
                if path.ends_with("explain") {
                    reqwest::Method::POST
                } else {
                    reqwest::Method::GET
                },
                server.url(path),
            )
            .bearer_auth("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 401, "{path}");
        let challenge = forged.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{path}: {challenge}"
        );
    }

    // A restart keeps the demo and its passwords; --demo-reset makes new ones.
    server.process.stop();
    let (server, again) = start_demo(tmp.path(), &["--demo"]);
    assert_eq!(printed_password(&again, "alice"), alice);
    server.process.stop();
    let (server, reset) = start_demo(tmp.path(), &["--demo-reset"]);
    assert_ne!(printed_password(&reset, "alice"), alice);
    server.process.stop();
}

#[test]
fn demo_never_takes_a_real_tenant_or_a_real_database() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let server = serve_on(tmp.path(), None);
    server.process.stop();
    let data = tmp.path().join("data");
    for flag in ["--demo", "--demo-reset"] {
        let line = expect_config_error(
            flag,
            gatehouse(
                tmp.path(),
                &[
                    "serve",
                    "--bind",
                    "127.0.0.1:0",
                    flag,
                    "--data-dir",
                    path_arg(&data),
                ],
            ),
        );
        assert!(line.contains("not a demo"), "{flag}: {line}");
    }
    assert!(
        data.join("gatehouse.db").is_file(),
        "the tenant is untouched"
    );
    assert!(!data.join("gatehouse-demo.json").exists());

    // Nothing comes from the environment: a shell that sets the real data
    // directory does not turn it into a demo.
    let fresh = tmp.path().join("fresh");
    let mut command = gatehouse(tmp.path(), &["serve", "--demo", "--bind", "127.0.0.1:0"]);
    command.env("GATEHOUSE_DATA_DIR", &fresh);
    let line = expect_config_error("GATEHOUSE_DATA_DIR with --demo", command);
    assert!(line.contains("GATEHOUSE_DATA_DIR is set"), "{line}");
    assert!(!fresh.exists());

    let line = expect_config_error(
        "--demo with a database URL",
        gatehouse(
            tmp.path(),
            &[
                "serve",
                "--demo",
                "--database-url",
                "postgres://127.0.0.1:1/x",
            ],
        ),
    );
    assert!(line.contains("--database-url"), "{line}");
}
