//! The first ten minutes: README.md's commands as written, from a clean
//! clone, with and without `CARGO_TARGET_DIR`; the operator errors a
//! newcomer meets first, each asserting its words; `gatehouse doctor`.
//!
//! The README's fenced blocks marked `<!-- readme-test: NAME -->` are run
//! with bash in the clone. The build line of the install block is the one
//! line not run: the binary under test is linked where that build would put
//! it, so the block's `PATH` line is exercised as written. The server runs on
//! a free port; `127.0.0.1:8080` in the blocks is replaced by it.

use super::{expect_config_error, gatehouse, path_arg, Server};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const README_PORT: &str = "127.0.0.1:8080";
/// Printed after each command of a README block, to split the output.
const END: &str = "@@end-of-command";

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fenced block after `<!-- readme-test: NAME`.
fn readme_block(readme: &str, name: &str) -> String {
    let marker = format!("<!-- readme-test: {name}");
    let after = readme
        .split_once(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"))
        .1;
    let body = after
        .split_once("```sh\n")
        .expect("a sh block after the marker")
        .1;
    body.split_once("```")
        .expect("the block's end")
        .0
        .to_string()
}

/// Whole commands (a line ending in `\\`, `|` or `&&` goes on), each followed
/// by an END marker.
fn with_markers(block: &str) -> String {
    let mut script = String::new();
    for line in block.lines() {
        script.push_str(line);
        script.push('\n');
        let continued = ["\\", "|", "&&"].iter().any(|end| line.ends_with(end));
        if !continued && !line.trim().is_empty() {
            script.push_str(&format!("echo; echo {END}\n"));
        }
    }
    script
}

/// Runs `script` with bash in `dir` (environment without GATEHOUSE_*);
/// returns each command's output, trimmed.
fn run_bash(dir: &Path, script: &str, target_dir: Option<&Path>) -> Vec<String> {
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!("set -euo pipefail\n{script}"))
        .current_dir(dir)
        .stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GATEHOUSE_") {
            command.env_remove(name);
        }
    }
    match target_dir {
        Some(target) => command.env("CARGO_TARGET_DIR", target),
        None => command.env_remove("CARGO_TARGET_DIR"),
    };
    let output = command.output().expect("run bash");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "README commands failed ({}):\n{script}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .split(END)
        .map(|chunk| chunk.trim().to_string())
        .collect()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Clones the repository into a temp dir and follows the README there:
/// install (PATH), serve, a management token two ways, a user's token; and
/// `scripts/test.sh` resolves the binary through the same target dir.
fn follow_the_readme(target_dir: Option<&Path>, tmp: &Path) {
    let clone = tmp.join("clone");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(repository_root())
        .arg(&clone)
        .status()
        .expect("git clone (the tests need git and a git checkout)");
    assert!(status.success(), "git clone failed");
    let target = target_dir.map_or_else(|| clone.join("target"), Path::to_path_buf);

    let mut print_binary = Command::new("bash");
    print_binary
        .args(["scripts/test.sh", "--print-binary"])
        .current_dir(&clone);
    match target_dir {
        Some(target) => print_binary.env("CARGO_TARGET_DIR", target),
        None => print_binary.env_remove("CARGO_TARGET_DIR"),
    };
    let printed = print_binary
        .output()
        .expect("scripts/test.sh --print-binary");
    assert!(printed.status.success(), "{printed:?}");
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout).trim(),
        target.join("debug").join("gatehouse").display().to_string(),
        "test.sh looks for the binary in the target dir"
    );

    // Where `cargo build --release` would put the binary.
    let release = target.join("release");
    std::fs::create_dir_all(&release).expect("release dir");
    let installed = release.join("gatehouse");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_gatehouse"), &installed).expect("link");

    let readme = std::fs::read_to_string(clone.join("README.md")).expect("README.md");
    let install: String = readme_block(&readme, "install")
        .lines()
        .filter(|line| !line.starts_with("cargo build"))
        .map(|line| format!("{line}\n"))
        .collect();
    let on_path = format!(
        "{install}test \"$(command -v gatehouse)\" = {:?}\n",
        installed.display().to_string()
    );

    let mut serve = gatehouse(&clone, &["serve"]);
    serve.env("GATEHOUSE_BIND", "127.0.0.1:0");
    let server = Server::start(serve);
    let address = format!("127.0.0.1:{}", server.port);
    let block =
        |name: &str| with_markers(&readme_block(&readme, name).replace(README_PORT, &address));

    let outputs = run_bash(&clone, &format!("{on_path}{}", block("tokens")), target_dir);
    let users = json(&outputs[1]);
    assert_eq!(users["total"], 1, "the bootstrap admin: {users}");
    assert!(outputs[2].contains("alice@example.com"), "{outputs:?}");
    let mut last = outputs.iter().rev().filter(|o| !o.is_empty());
    let explained = last.next().expect("output");
    assert!(
        explained.contains("token format: opaque, because no audience was given"),
        "{explained}"
    );
    let user_token = json(last.next().expect("the token response"));
    assert!(user_token["access_token"].is_string(), "{user_token}");
    assert!(user_token["id_token"].is_string(), "{user_token}");

    let outputs = run_bash(
        &clone,
        &format!("{on_path}{}", block("management")),
        target_dir,
    );
    let users = json(
        outputs
            .iter()
            .rev()
            .find(|o| !o.is_empty())
            .unwrap_or_else(|| panic!("no output: {outputs:?}")),
    );
    assert_eq!(users["total"], 2, "admin and alice: {users}");

    // No SMTP server: the reset email lands in the data directory's outbox.
    let outputs = run_bash(&clone, &format!("{on_path}{}", block("email")), target_dir);
    let all = outputs.join("\n");
    assert!(
        all.contains("We've just sent you an email to reset your password."),
        "{outputs:?}"
    );
    assert!(all.contains(".eml"), "an email in the outbox: {outputs:?}");
    drop(server);
}

#[test]
fn readme_from_a_clean_clone_with_the_default_target_dir() {
    let tmp = tempfile::tempdir().expect("temp dir");
    follow_the_readme(None, tmp.path());
}

#[test]
fn readme_from_a_clean_clone_with_cargo_target_dir() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let target = tmp.path().join("elsewhere").join("target");
    follow_the_readme(Some(&target), tmp.path());
}

/// A port nothing listens on (it was free a moment ago).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

#[test]
fn operator_errors_say_what_where_and_what_to_do() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let data = dir.join("data");
    let serve_with_config = |text: &str| {
        let file = dir.join("gatehouse.toml");
        std::fs::write(&file, text).expect("write config");
        gatehouse(
            dir,
            &[
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--data-dir",
                path_arg(&data),
                "--config",
                path_arg(&file),
            ],
        )
    };

    let line = expect_config_error(
        "TOML syntax error",
        serve_with_config("bind = \"127.0.0.1:0\"\nheader_timeout = \n"),
    );
    assert!(
        line.contains("gatehouse.toml line 2, column 18") && line.contains("fix the TOML syntax"),
        "{line}"
    );

    let line = expect_config_error(
        "wrong type",
        serve_with_config("header_timeout = \"soon\"\n"),
    );
    assert!(
        line.contains("line 1, column 18")
            && line.contains("key `header_timeout`")
            && line.contains("expected u64")
            && line.contains("gatehouse serve --help"),
        "{line}"
    );

    let port = free_port();
    let started = Instant::now();
    let line = expect_config_error(
        "unreachable PostgreSQL",
        gatehouse(
            dir,
            &[
                "migrate",
                "--database-url",
                &format!("postgres://gatehouse@127.0.0.1:{port}/gatehouse"),
            ],
        ),
    );
    assert!(
        line.contains(&format!(
            "cannot reach PostgreSQL at 127.0.0.1:{port}: connection refused"
        )) && line.contains("--database-url"),
        "{line}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let file = dir.join("a-file");
    std::fs::write(&file, "x").expect("write");
    let line = expect_config_error(
        "a file as the data dir",
        gatehouse(
            dir,
            &[
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--data-dir",
                path_arg(&file),
            ],
        ),
    );
    assert!(
        line.contains("is a file, not a directory") && line.contains("pass another --data-dir"),
        "{line}"
    );
    assert!(!line.contains("File exists"), "{line}");

    let line = expect_config_error(
        "unknown flag",
        gatehouse(dir, &["serve", "--bnd", "127.0.0.1:0"]),
    );
    assert!(
        line.contains("unexpected argument '--bnd' found")
            && line.contains("--bind")
            && line.contains("see `gatehouse serve --help`"),
        "{line}"
    );
    let line = expect_config_error(
        "bad flag value",
        gatehouse(dir, &["serve", "--header-timeout", "soon"]),
    );
    assert!(
        line.contains("invalid value 'soon' for '--header-timeout"),
        "{line}"
    );
}

fn help(args: &[&str]) -> String {
    let tmp = tempfile::tempdir().expect("temp dir");
    let output = gatehouse(tmp.path(), args).output().expect("run");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn help_describes_every_option() {
    let serve = help(&["serve", "--help"]);
    for flag in [
        "--database-max-connections",
        "--bootstrap-client-id",
        "--bootstrap-client-secret",
        "--bootstrap-admin-email",
        "--bootstrap-admin-password",
        "--master-key-file",
        "--trusted-proxies",
    ] {
        assert!(serve.contains(flag), "{flag} missing:\n{serve}");
    }
    assert!(serve.contains("spelled with underscores"), "{serve}");
    let add = help(&["users", "add", "--help"]);
    assert!(
        add.contains("Email address the user logs in with")
            && add.contains("at least 8 characters"),
        "{add}"
    );
}

/// `gatehouse doctor` with `args`; (success, stdout lines).
fn doctor(cwd: &Path, args: &[&str]) -> (bool, Vec<String>) {
    let mut all = vec!["doctor"];
    all.extend_from_slice(args);
    let output = gatehouse(cwd, &all).output().expect("run doctor");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        output.status.success(),
        stdout.lines().map(str::to_string).collect(),
    )
}

fn line<'a>(lines: &'a [String], check: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.get(5..).is_some_and(|rest| rest.starts_with(check)))
        .unwrap_or_else(|| panic!("no {check} line in {lines:?}"))
}

#[test]
fn doctor_passes_a_running_server() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let mut server = Server::start(gatehouse(
        tmp.path(),
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            path_arg(&data),
        ],
    ));
    let bind = format!("127.0.0.1:{}", server.port);
    let (ok, lines) = doctor(
        tmp.path(),
        &["--bind", &bind, "--data-dir", path_arg(&data)],
    );
    assert!(ok, "{lines:#?}");
    for check in [
        "configuration",
        "data directory",
        "database",
        "signing keys",
        "public URL",
        "TLS",
    ] {
        assert!(line(&lines, check).starts_with("ok  "), "{lines:#?}");
    }
    assert!(
        line(&lines, "signing keys").contains("all sealed"),
        "{lines:#?}"
    );
    assert!(
        line(&lines, "email").starts_with("warn")
            && line(&lines, "email").contains("no SMTP server: emails are written to")
            && line(&lines, "email").contains("fix: --smtp-url"),
        "{lines:#?}"
    );
    // The doctor's request was logged with a short duration.
    server
        .process
        .stdout_until_quiet(Duration::from_millis(300));
    let logged = server.process.stderr_lines();
    let ms = logged
        .iter()
        .find_map(|l| l.split("ms=").nth(1))
        .unwrap_or_else(|| panic!("no request line: {logged:?}"));
    let decimals = ms
        .split_whitespace()
        .next()
        .unwrap_or("")
        .split('.')
        .nth(1)
        .unwrap_or("");
    assert!(decimals.len() <= 3, "ms={ms}");
}

#[test]
fn doctor_names_the_fix_for_a_bad_data_dir_and_an_unreachable_database() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("temp dir");
    let missing = tmp.path().join("missing");
    let bind = format!("127.0.0.1:{}", free_port());
    let (ok, lines) = doctor(
        tmp.path(),
        &["--bind", &bind, "--data-dir", path_arg(&missing)],
    );
    assert!(!ok, "{lines:#?}");
    assert!(
        line(&lines, "data directory").starts_with("FAIL")
            && line(&lines, "data directory").contains("run `gatehouse serve` once"),
        "{lines:#?}"
    );
    assert!(
        line(&lines, "public URL").contains("did not answer")
            && line(&lines, "public URL").contains("fix:"),
        "{lines:#?}"
    );

    let open = tmp.path().join("open");
    std::fs::create_dir(&open).expect("mkdir");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let (ok, lines) = doctor(
        tmp.path(),
        &["--bind", &bind, "--data-dir", path_arg(&open)],
    );
    assert!(!ok);
    let found = line(&lines, "data directory");
    assert!(
        found.starts_with("FAIL")
            && found.contains("writable by group or others")
            && found.contains(&format!("fix: chmod 700 {}", open.display())),
        "{lines:#?}"
    );

    let port = free_port();
    let key = tmp.path().join("master.key");
    std::fs::write(&key, "00".repeat(32)).expect("write key");
    let (ok, lines) = doctor(
        tmp.path(),
        &[
            "--bind",
            &bind,
            "--database-url",
            &format!("postgres://gatehouse@127.0.0.1:{port}/gatehouse"),
            "--master-key-file",
            path_arg(&key),
        ],
    );
    assert!(!ok);
    let found = line(&lines, "database");
    assert!(
        found.starts_with("FAIL")
            && found.contains(&format!("127.0.0.1:{port}: connection refused")),
        "{lines:#?}"
    );
    assert!(
        line(&lines, "signing keys").starts_with("FAIL"),
        "{lines:#?}"
    );
}

/// Doctor only looks: on a database whose schema is behind it says which
/// migrations are missing and how to apply them, and applies none itself
/// (a second run finds the same ones missing).
#[test]
fn doctor_reports_pending_migrations_without_applying_them() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::fs::write(data.join("gatehouse.db"), b"").expect("empty database");
    let bind = format!("127.0.0.1:{}", free_port());
    for run in 1..=2 {
        let (ok, lines) = doctor(
            tmp.path(),
            &["--bind", &bind, "--data-dir", path_arg(&data)],
        );
        assert!(!ok, "run {run}: {lines:#?}");
        let schema = line(&lines, "schema");
        assert!(
            schema.starts_with("FAIL")
                && schema.contains("0001_")
                && schema.contains("fix: run `gatehouse migrate`"),
            "run {run}: {lines:#?}"
        );
        assert!(
            line(&lines, "signing keys").contains("not checked"),
            "run {run}: {lines:#?}"
        );
    }
}
