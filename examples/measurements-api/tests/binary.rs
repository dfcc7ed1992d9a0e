//! The `measurements-api` binary: it prints the address it bound (port 0
//! picks one), answers 401 without a token, stops cleanly on SIGTERM, and
//! refuses a malformed `--allow-origin` with one line. Its behaviour with
//! real tokens is tested against a live Gatehouse in
//! `crates/cli/tests/cli/examples.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PREFIX: &str = "measurements-api listening on http://";

fn api(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_measurements-api"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MEASUREMENTS_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Kills the child if the test fails before it stops.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(address: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
}

#[test]
fn prints_its_address_refuses_no_token_and_stops_on_sigterm() {
    let mut running = Running(
        api(&["--listen", "127.0.0.1:0", "--issuer", "http://127.0.0.1:9/"])
            .spawn()
            .expect("spawn measurements-api"),
    );
    let stdout = running.0.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let address = first
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    assert!(!address.ends_with(":0"), "{first}");

    let response = get(address, "/api/measurements");
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("www-authenticate: bearer realm=\"https://measurements.example/api\""),
        "{response}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &running.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = running.0.try_wait().expect("try_wait") {
            break exit;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit}");
}

#[test]
fn a_malformed_origin_is_one_line_on_stderr() {
    let output = api(&[
        "--listen",
        "127.0.0.1:0",
        "--allow-origin",
        "http://localhost:4200/",
    ])
    .output()
    .expect("run measurements-api");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("measurements-api: error: --allow-origin"),
        "{stderr}"
    );
}
