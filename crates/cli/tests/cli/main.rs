//! Tests of the real `gatehouse` binary: the startup banner and the port it
//! reports, the issuer from flags, environment and config file (flag > env >
//! file), keys kept across restarts, SIGTERM, one-line errors for bad
//! configuration, and HTTPS. [`crash`]: `kill -9` under load loses no
//! acknowledged write. [`shutdown`]: SIGTERM under load loses no log
//! event. [`newcomer`]: the README from a clean clone, the
//! first errors a newcomer meets, `gatehouse doctor`. [`actions`]:
//! `gatehouse actions deploy`. [`users`]: the password policy in
//! `gatehouse users add | set-password`. [`bench`]: `gatehouse bench --smoke`.
//! [`examples`]: the example APIs against a live server. [`demo`]: `serve
//! --demo`.
//!
//! Every server binds `127.0.0.1:0` and reports its port on stdout; every
//! child is killed when its guard drops, and every wait has a deadline.

mod actions;
mod bench;
mod crash;
mod demo;
mod examples;
mod explain;
mod master_key;
mod multinode;
mod newcomer;
mod shutdown;
mod transfer;
mod users;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Startup includes generating four signing keys on a fresh data directory.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

const BANNER_PREFIX: &str = "Gatehouse is listening on ";
const BANNER_ISSUER: &str = " — issuer ";

/// `gatehouse <args>` with no `GATEHOUSE_*` variable inherited from the test
/// environment, run in `cwd`.
fn gatehouse(cwd: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GATEHOUSE_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A running `gatehouse` process, killed when dropped. Its stdout arrives
/// line by line on a channel; its stderr is collected (and drained, so log
/// lines never fill the pipe).
struct Process {
    child: Child,
    stdout: Receiver<String>,
    stdout_seen: Vec<String>,
    stderr: Arc<Mutex<Vec<String>>>,
    stderr_reader: std::thread::JoinHandle<()>,
}

impl Process {
    fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().expect("spawn gatehouse");
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        let (tx, stdout) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
        Self {
            child,
            stdout,
            stdout_seen: Vec::new(),
            stderr,
            stderr_reader,
        }
    }

    /// Waits (bounded) until stderr is closed and read to the end.
    fn wait_stderr_closed(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.stderr_reader.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr_lines(&self) -> Vec<String> {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads stdout until a line matches, stdout closes, or `timeout` passes.
    fn wait_for_line(
        &mut self,
        matches: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        if let Some(line) = self.stdout_seen.iter().find(|l| matches(l)) {
            return Some(line.clone());
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    self.stdout_seen.push(line.clone());
                    if matches(&line) {
                        return Some(line);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Every stdout line so far, waiting `quiet` for more after the last one.
    fn stdout_until_quiet(&mut self, quiet: Duration) -> Vec<String> {
        while let Ok(line) = self.stdout.recv_timeout(quiet) {
            self.stdout_seen.push(line);
        }
        self.stdout_seen.clone()
    }

    /// Waits for the banner; returns (port, issuer).
    fn banner(&mut self) -> (u16, String) {
        let Some(line) = self.wait_for_line(|l| l.starts_with(BANNER_PREFIX), START_TIMEOUT) else {
            let status = self.child.try_wait().ok().flatten();
            panic!(
                "no banner on stdout (exit status {status:?})\nstdout: {:?}\nstderr: {:?}",
                self.stdout_seen,
                self.stderr_lines()
            );
        };
        let rest = &line[BANNER_PREFIX.len()..];
        let (address, issuer) = rest
            .split_once(BANNER_ISSUER)
            .unwrap_or_else(|| panic!("banner without issuer: {line:?}"));
        let address: std::net::SocketAddr = address
            .parse()
            .unwrap_or_else(|e| panic!("banner address {address:?}: {e}"));
        assert_eq!(address.ip().to_string(), "127.0.0.1", "{line}");
        assert_ne!(address.port(), 0, "{line}");
        (address.port(), issuer.to_string())
    }

    /// Sends SIGTERM.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Waits (bounded) for the process to exit.
    fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then asserts a clean exit (status 0) within a few seconds.
    fn stop(mut self) {
        self.terminate();
        let status = self.wait_exit(EXIT_TIMEOUT);
        assert!(
            status.is_some_and(|s| s.success()),
            "after SIGTERM: {status:?}\nstderr: {:?}",
            self.stderr_lines()
        );
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A started server: the process, its port and its printed issuer.
struct Server {
    process: Process,
    port: u16,
    issuer: String,
}

impl Server {
    fn start(command: Command) -> Self {
        let mut process = Process::spawn(command);
        let (port, issuer) = process.banner();
        Self {
            process,
            port,
            issuer,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// `gatehouse serve` on `127.0.0.1:0` with its data in `<tmp>/data`, on
/// SQLite or, with `database_url`, on that database (with a fresh master key).
fn serve_on(tmp: &Path, database_url: Option<&str>) -> Server {
    let data = tmp.join("data");
    let mut args = vec![
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        path_arg(&data),
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url", url]);
    }
    let mut command = gatehouse(tmp, &args);
    if database_url.is_some() {
        let key = gatehouse_core::sealing::MasterKey::generate().to_text();
        command.env("GATEHOUSE_MASTER_KEY", key);
    }
    Server::start(command)
}

/// `gatehouse seed --file <file>` into the database of [`serve_on`].
fn seed_file(tmp: &Path, database_url: Option<&str>, file: &Path) {
    let data = tmp.join("data");
    let mut args = vec![
        "seed",
        "--file",
        path_arg(file),
        "--data-dir",
        path_arg(&data),
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url", url]);
    }
    let out = gatehouse(tmp, &args).output().expect("run gatehouse seed");
    assert!(
        out.status.success(),
        "gatehouse seed --file {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("HTTP client")
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = http()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let body = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("JSON from {url}: {e}"));
    (status, body)
}

async fn discovery(server: &Server) -> Value {
    let (status, doc) = get_json(&server.url("/.well-known/openid-configuration")).await;
    assert_eq!(status, 200, "{doc}");
    doc
}

async fn kids(server: &Server) -> Vec<String> {
    let (status, jwks) = get_json(&server.url("/.well-known/jwks.json")).await;
    assert_eq!(status, 200, "{jwks}");
    let kids: Vec<String> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_string())
        .collect();
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        assert!(
            jwks["keys"]
                .as_array()
                .expect("keys")
                .iter()
                .any(|k| k["alg"] == alg),
            "no {alg} key: {jwks}"
        );
    }
    kids
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

#[tokio::test]
async fn serve_reports_its_port_and_keeps_keys_across_restarts() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let args = [
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        path_arg(&data),
    ];

    let mut first = Server::start(gatehouse(tmp.path(), &args));
    assert_eq!(first.issuer, format!("http://127.0.0.1:{}/", first.port));
    let doc = discovery(&first).await;
    assert_eq!(doc["issuer"], first.issuer.as_str());
    assert_eq!(
        doc["jwks_uri"],
        format!("http://127.0.0.1:{}/.well-known/jwks.json", first.port)
    );
    assert!(
        first
            .process
            .wait_for_line(|l| l.contains("first start"), Duration::from_secs(5))
            .is_some(),
        "no first-start notice: {:?}",
        first.process.stdout_seen
    );
    assert!(data.join("gatehouse.db").exists());
    let kids_before = kids(&first).await;
    first.process.stop();

    let mut second = Server::start(gatehouse(tmp.path(), &args));
    assert_eq!(second.issuer, format!("http://127.0.0.1:{}/", second.port));
    assert_eq!(discovery(&second).await["issuer"], second.issuer.as_str());
    // The server answered, so the whole banner has been written.
    let stdout = second
        .process
        .stdout_until_quiet(Duration::from_millis(300));
    assert!(
        !stdout.iter().any(|l| l.contains("first start")),
        "second start claims to be the first: {stdout:?}"
    );
    assert_eq!(kids(&second).await, kids_before);
    second.process.stop();
}

#[tokio::test]
async fn public_url_sets_the_issuer() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let server = Server::start(gatehouse(
        tmp.path(),
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            path_arg(&data),
            "--public-url",
            "https://id.example.com",
        ],
    ));
    assert_eq!(server.issuer, "https://id.example.com/");
    let doc = discovery(&server).await;
    assert_eq!(doc["issuer"], "https://id.example.com/");
    assert_eq!(
        doc["jwks_uri"],
        "https://id.example.com/.well-known/jwks.json"
    );
    assert_eq!(doc["token_endpoint"], "https://id.example.com/oauth/token");
    server.process.stop();
}

#[tokio::test]
async fn flags_beat_environment_beat_config_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file_data = tmp.path().join("file-data");
    let env_data = tmp.path().join("env-data");
    let config = tmp.path().join("gatehouse.toml");
    std::fs::write(
        &config,
        format!(
            "bind = \"127.0.0.1:0\"\ndata_dir = {:?}\npublic_url = \"https://file.example\"\n",
            path_arg(&file_data)
        ),
    )
    .expect("write config");
    let with_config = ["serve", "--config", path_arg(&config)];

    // The file alone.
    let server = Server::start(gatehouse(tmp.path(), &with_config));
    assert_eq!(server.issuer, "https://file.example/");
    assert_eq!(discovery(&server).await["issuer"], "https://file.example/");
    assert!(
        file_data.join("gatehouse.db").exists(),
        "data_dir from the file"
    );
    server.process.stop();

    // The environment over the file.
    let mut command = gatehouse(tmp.path(), &with_config);
    command
        .env("GATEHOUSE_PUBLIC_URL", "https://env.example")
        .env("GATEHOUSE_DATA_DIR", &env_data);
    let server = Server::start(command);
    assert_eq!(server.issuer, "https://env.example/");
    assert_eq!(discovery(&server).await["issuer"], "https://env.example/");
    assert!(
        env_data.join("gatehouse.db").exists(),
        "data_dir from the env"
    );
    server.process.stop();

    // A flag over both.
    let mut args = with_config.to_vec();
    args.extend(["--public-url", "https://flag.example/"]);
    let mut command = gatehouse(tmp.path(), &args);
    command
        .env("GATEHOUSE_PUBLIC_URL", "https://env.example")
        .env("GATEHOUSE_DATA_DIR", &env_data);
    let server = Server::start(command);
    assert_eq!(server.issuer, "https://flag.example/");
    assert_eq!(discovery(&server).await["issuer"], "https://flag.example/");
    server.process.stop();

    // The config file named by the environment.
    let mut command = gatehouse(tmp.path(), &["serve"]);
    command.env("GATEHOUSE_CONFIG", &config);
    let server = Server::start(command);
    assert_eq!(server.issuer, "https://file.example/");
    assert_eq!(discovery(&server).await["issuer"], "https://file.example/");
    server.process.stop();
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let server = Server::start(gatehouse(
        tmp.path(),
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            path_arg(&data),
        ],
    ));
    // An idle keep-alive connection must not hold the exit for the grace period.
    let client = http();
    let response = client
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(response.status(), 200);
    let started = Instant::now();
    let mut process = server.process;
    process.terminate();
    let status = process.wait_exit(EXIT_TIMEOUT);
    assert!(
        status.is_some_and(|s| s.success()),
        "after SIGTERM: {status:?}\nstderr: {:?}",
        process.stderr_lines()
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "SIGTERM took {:?}",
        started.elapsed()
    );
    drop(client);
}

/// The signal handlers are registered before the banner says the server is
/// listening, so a SIGTERM right after it still exits cleanly.
#[test]
fn sigterm_right_after_the_banner_exits_cleanly() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let args = [
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        path_arg(&data),
    ];
    for _ in 0..3 {
        let mut process = Process::spawn(gatehouse(tmp.path(), &args));
        process.banner();
        process.stop();
    }
}

/// What a process that had to fail left behind.
struct Failure {
    stdout: Vec<String>,
    /// Non-empty stderr lines.
    stderr: Vec<String>,
}

/// Runs `gatehouse` expecting it to fail: a non-zero exit within the
/// deadline, no panic, no banner.
fn expect_failure(case: &str, command: Command) -> Failure {
    let mut process = Process::spawn(command);
    let status = process
        .wait_exit(EXIT_TIMEOUT)
        .unwrap_or_else(|| panic!("{case}: still running after {EXIT_TIMEOUT:?}"));
    assert!(!status.success(), "{case}: exited with {status}");
    let stdout = process.stdout_until_quiet(Duration::from_millis(100));
    process.wait_stderr_closed(Duration::from_secs(5));
    let stderr: Vec<String> = process
        .stderr_lines()
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let text = stderr.join("\n");
    assert!(
        !text.contains("panicked") && !text.to_lowercase().contains("backtrace"),
        "{case}: panicked\n{text}"
    );
    assert!(
        !stdout.iter().any(|l| l.starts_with(BANNER_PREFIX)),
        "{case}: printed the banner: {stdout:?}"
    );
    Failure { stdout, stderr }
}

/// [`expect_failure`], and stderr is exactly one line starting
/// `gatehouse: error:`. Returns that line.
fn expect_config_error(case: &str, command: Command) -> String {
    let failure = expect_failure(case, command);
    let [line] = failure.stderr.as_slice() else {
        panic!(
            "{case}: expected one line on stderr, got\n{}\nstdout: {:?}",
            failure.stderr.join("\n"),
            failure.stdout
        );
    };
    assert!(line.starts_with("gatehouse: error:"), "{case}: {line:?}");
    line.clone()
}

#[test]
fn bad_configuration_fails_with_one_line() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    let data = dir.join("data");
    let data = path_arg(&data);
    let serve = |extra: &[&str]| {
        let mut args = vec!["serve", "--bind", "127.0.0.1:0", "--data-dir", data];
        args.extend_from_slice(extra);
        gatehouse(dir, &args)
    };

    // Tests run as root, so "unwritable" is a path under a regular file.
    let file = dir.join("file");
    std::fs::write(&file, "not a directory").expect("write file");
    let under_file = file.join("sub");
    let line = expect_config_error(
        "data dir under a file",
        gatehouse(
            dir,
            &[
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--data-dir",
                path_arg(&under_file),
            ],
        ),
    );
    assert!(line.contains("data directory"), "{line}");

    let missing_cert = dir.join("missing-cert.pem");
    let missing_key = dir.join("missing-key.pem");
    let line = expect_config_error(
        "missing TLS files",
        serve(&[
            "--tls-cert",
            path_arg(&missing_cert),
            "--tls-key",
            path_arg(&missing_key),
        ]),
    );
    assert!(line.contains("missing-cert.pem"), "{line}");

    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("self-signed certificate");
    let garbage_cert = dir.join("garbage-cert.pem");
    let good_key = dir.join("good-key.pem");
    let good_cert = dir.join("good-cert.pem");
    let garbage_key = dir.join("garbage-key.pem");
    std::fs::write(&garbage_cert, "this is not a certificate\n").expect("write");
    std::fs::write(&good_key, generated.key_pair.serialize_pem()).expect("write");
    std::fs::write(&good_cert, generated.cert.pem()).expect("write");
    std::fs::write(
        &garbage_key,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .expect("write");
    expect_config_error(
        "garbage TLS certificate",
        serve(&[
            "--tls-cert",
            path_arg(&garbage_cert),
            "--tls-key",
            path_arg(&good_key),
        ]),
    );
    expect_config_error(
        "garbage TLS key",
        serve(&[
            "--tls-cert",
            path_arg(&good_cert),
            "--tls-key",
            path_arg(&garbage_key),
        ]),
    );

    let line = expect_config_error("bad public URL", serve(&["--public-url", "not-a-url"]));
    assert!(line.contains("public-url"), "{line}");

    let line = expect_config_error(
        "bad bind address",
        gatehouse(dir, &["serve", "--bind", "nonsense", "--data-dir", data]),
    );
    assert!(line.contains("nonsense"), "{line}");

    let unknown_key = dir.join("unknown-key.toml");
    std::fs::write(&unknown_key, "bind = \"127.0.0.1:0\"\nbogus_key = 1\n").expect("write");
    let line = expect_config_error(
        "unknown key in the config file",
        serve(&["--config", path_arg(&unknown_key)]),
    );
    assert!(line.contains("bogus_key"), "{line}");

    let broken_toml = dir.join("broken.toml");
    std::fs::write(&broken_toml, "bind = \n").expect("write");
    expect_config_error(
        "TOML syntax error",
        serve(&["--config", path_arg(&broken_toml)]),
    );

    let missing_config = dir.join("missing.toml");
    expect_config_error(
        "missing config file",
        serve(&["--config", path_arg(&missing_config)]),
    );

    // The port is taken (by this test, on an ephemeral port). The database is
    // opened before the bind, so migration log lines may come first; the
    // error is still the last line.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("addr").to_string();
    let failure = expect_failure(
        "address in use",
        gatehouse(dir, &["serve", "--bind", &address, "--data-dir", data]),
    );
    let last = failure.stderr.last().map(String::as_str).unwrap_or("");
    assert!(
        last.starts_with("gatehouse: error:") && last.contains(&address),
        "{:?}",
        failure.stderr
    );
}

/// The one certificate (a CA or the server's own) a test's TLS client trusts.
type Trusted = rustls::pki_types::CertificateDer<'static>;

/// A TLS connection to the server, trusting only `trusted`, with SNI
/// `localhost`.
fn tls_connect(
    port: u16,
    trusted: &Trusted,
) -> rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(trusted.clone())
        .expect("trust the test certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("server name");
    let connection =
        rustls::ClientConnection::new(Arc::new(config), name).expect("TLS client connection");
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    tcp.set_write_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    rustls::StreamOwned::new(connection, tcp)
}

/// Sends `GET <path>` over TLS (see [`tls_connect`]); returns the raw HTTP
/// response.
fn https_get(port: u16, trusted: &Trusted, path: &str) -> String {
    let mut tls = tls_connect(port, trusted);
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes())
        .expect("TLS handshake and request");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            // A peer closing without close_notify ends the response too.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => panic!("reading the TLS response: {e}"),
        }
    }
    String::from_utf8(response).expect("UTF-8 response")
}

type TlsStream = rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>;

/// An HTTP/2 connection over TLS: the client preface and an empty SETTINGS
/// frame are sent.
fn h2_connect(port: u16, trusted: &Trusted) -> TlsStream {
    let mut tls = tls_connect(port, trusted);
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    opening.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    tls.write_all(&opening).expect("TLS handshake and preface");
    tls
}

/// The next HTTP/2 frame: (type, flags, payload).
fn h2_frame(tls: &mut TlsStream) -> std::io::Result<(u8, u8, Vec<u8>)> {
    let mut header = [0u8; 9];
    tls.read_exact(&mut header)?;
    let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
    let mut payload = vec![0u8; length];
    tls.read_exact(&mut payload)?;
    Ok((header[3], header[4], payload))
}

/// The settings the server announces to an HTTP/2 client over TLS: (id, value).
fn h2_server_settings(port: u16, trusted: &Trusted) -> Vec<(u16, u32)> {
    let mut tls = h2_connect(port, trusted);
    let (kind, _, payload) = h2_frame(&mut tls).expect("a frame");
    assert_eq!(kind, 4, "the server's first frame is SETTINGS");
    payload
        .chunks_exact(6)
        .map(|s| {
            (
                u16::from_be_bytes([s[0], s[1]]),
                u32::from_be_bytes([s[2], s[3], s[4], s[5]]),
            )
        })
        .collect()
}

/// A self-signed certificate for localhost, written as PEM files in `dir`.
fn tls_files(dir: &Path) -> (rcgen::CertifiedKey, PathBuf, PathBuf) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("self-signed certificate");
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, generated.cert.pem()).expect("write cert");
    std::fs::write(&key_path, generated.key_pair.serialize_pem()).expect("write key");
    (generated, cert_path, key_path)
}

/// `gatehouse serve` on an ephemeral port over TLS with `cert` and `key`.
fn tls_server(dir: &Path, data: &Path, cert: &Path, key: &Path) -> Server {
    Server::start(gatehouse(
        dir,
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            path_arg(data),
            "--tls-cert",
            path_arg(cert),
            "--tls-key",
            path_arg(key),
        ],
    ))
}

fn body_json(response: &str) -> Value {
    let (_, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end: {response:?}"));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON body ({e}): {response:?}"))
}

#[tokio::test]
async fn idle_http2_over_tls_is_closed_though_it_answers_pings() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let (generated, cert_path, key_path) = tls_files(tmp.path());
    let server = Server::start(gatehouse(
        tmp.path(),
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            path_arg(&data),
            "--tls-cert",
            path_arg(&cert_path),
            "--tls-key",
            path_arg(&key_path),
            "--header-timeout",
            "1",
        ],
    ));
    let mut tls = h2_connect(server.port, generated.cert.der());
    // A live peer: it acknowledges settings and answers every ping, and
    // sends no request. The server must close it anyway (within 20 s for
    // a 1 s limit).
    let give_up = Instant::now() + Duration::from_secs(20);
    let mut pings = 0;
    loop {
        assert!(
            Instant::now() < give_up,
            "an idle HTTP/2 connection is still open after 20 s ({pings} pings answered)"
        );
        match h2_frame(&mut tls) {
            Err(_) => break,
            Ok((7, _, _)) => break, // GOAWAY
            Ok((4, 0, _)) => {
                let _ = tls.write_all(&[0, 0, 0, 4, 1, 0, 0, 0, 0]);
            }
            Ok((6, 0, payload)) => {
                pings += 1;
                let mut ack = vec![0, 0, 8, 6, 1, 0, 0, 0, 0];
                ack.extend_from_slice(&payload);
                let _ = tls.write_all(&ack);
            }
            Ok(_) => {}
        }
    }
    server.process.stop();
}

/// The DER of the first certificate in a PEM file.
fn first_pem_certificate(path: &Path) -> Trusted {
    use base64::Engine as _;
    let pem = std::fs::read_to_string(path).expect("read PEM");
    let body: String = pem
        .lines()
        .skip_while(|line| *line != "-----BEGIN CERTIFICATE-----")
        .skip(1)
        .take_while(|line| !line.starts_with("-----END"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64 certificate");
    rustls::pki_types::CertificateDer::from(der)
}

/// `gatehouse dev-cert` makes a CA and a certificate that `serve` uses and a
/// client trusting only the CA accepts; a second run keeps the CA (trusted
/// once) and issues a certificate that still chains to it. Keys are 0600.
#[tokio::test]
async fn dev_cert_makes_a_ca_the_server_certificate_chains_to() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let tls = data.join("tls");
    let dev_cert = || {
        let output = gatehouse(tmp.path(), &["dev-cert", "--data-dir", path_arg(&data)])
            .output()
            .expect("run dev-cert");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let printed = dev_cert();
    for variable in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"] {
        assert!(printed.contains(variable), "{printed}");
    }
    assert!(printed.contains("Made a development CA"), "{printed}");
    #[cfg(unix)]
    for file in ["ca-key.pem", "key.pem"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(tls.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let ca_before = std::fs::read(tls.join("ca.pem")).expect("ca.pem");
    let printed = dev_cert();
    assert!(printed.contains("Kept the development CA"), "{printed}");
    assert_eq!(
        std::fs::read(tls.join("ca.pem")).expect("ca.pem"),
        ca_before
    );

    let server = tls_server(
        tmp.path(),
        &data,
        &tls.join("cert.pem"),
        &tls.join("key.pem"),
    );
    let ca = first_pem_certificate(&tls.join("ca.pem"));
    let response = https_get(server.port, &ca, "/.well-known/openid-configuration");
    assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
    assert_eq!(body_json(&response)["issuer"], server.issuer.as_str());
    server.process.stop();
}

#[tokio::test]
async fn tls_serves_https() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let (generated, cert_path, key_path) = tls_files(tmp.path());

    let server = tls_server(tmp.path(), &data, &cert_path, &key_path);
    assert_eq!(server.issuer, format!("https://127.0.0.1:{}/", server.port));

    let response = https_get(server.port, generated.cert.der(), "/healthz");
    assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
    assert_eq!(body_json(&response)["status"], "ok");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("\r\nstrict-transport-security: max-age=31536000\r\n"),
        "HTTPS answers without HSTS: {response:?}"
    );

    let response = https_get(
        server.port,
        generated.cert.der(),
        "/.well-known/openid-configuration",
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
    assert_eq!(body_json(&response)["issuer"], server.issuer.as_str());

    // HTTP/2 over TLS: at most 32 streams at once per connection.
    const MAX_CONCURRENT_STREAMS: u16 = 3;
    let settings = h2_server_settings(server.port, generated.cert.der());
    assert!(
        settings.contains(&(MAX_CONCURRENT_STREAMS, 32)),
        "{settings:?}"
    );

    // Plain HTTP on the TLS port gets no answer.
    let plain = http().get(server.url("/healthz")).send().await;
    assert!(
        plain.as_ref().map_or(true, |r| !r.status().is_success()),
        "plain HTTP answered on the TLS port: {plain:?}"
    );
    server.process.stop();
}
