//! Transport limits over raw TCP: header and body deadlines, idle keep-alive
//! connections, the connection cap, body size limits answered before the
//! body is sent, HTTP/1.1 only on the plain listener, and no HSTS over plain
//! HTTP.
//!
//! Deadlines are configured short (1 s); assertions only bound how long the
//! server may take (generously), never how fast it must be.

use crate::support::TestServer;
use gatehouse_server::ServeOptions;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for the server to act on a 1 s deadline.
const GENEROUS: Duration = Duration::from_secs(20);

fn short_deadlines() -> ServeOptions {
    ServeOptions {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        ..ServeOptions::default()
    }
}

async fn connect(server: &TestServer) -> TcpStream {
    let address = server.base_url.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("connect")
}

/// Everything the server sends until it closes the connection; panics if it
/// keeps the connection open longer than [`GENEROUS`].
async fn read_until_closed(stream: &mut TcpStream, what: &str) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(GENEROUS, stream.read(&mut buf)).await {
            Err(_) => panic!("{what}: the connection is still open after {GENEROUS:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// Reads one response (headers and a `Content-Length` body).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        let n = tokio::time::timeout(GENEROUS, stream.read(&mut buf))
            .await
            .expect("a response in time")
            .expect("read");
        assert!(n > 0, "closed before a whole response: {text:?}");
        received.extend_from_slice(&buf[..n]);
    }
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

#[tokio::test]
async fn half_sent_header_is_closed_after_the_header_timeout() {
    let server = TestServer::start_with_options(short_deadlines()).await;
    let mut stream = connect(&server).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("write");
    let answer = read_until_closed(&mut stream, "half a header").await;
    assert!(!answer.contains("200 OK"), "{answer:?}");
    server.stop().await;
}

#[tokio::test]
async fn silent_and_idle_connections_are_closed() {
    let server = TestServer::start_with_options(short_deadlines()).await;
    let mut silent = connect(&server).await;
    let answer = read_until_closed(&mut silent, "a connection that sends nothing").await;
    assert_eq!(answer, "");

    let mut idle = connect(&server).await;
    idle.write_all(HEALTHZ).await.expect("write");
    let response = read_response(&mut idle).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
    read_until_closed(&mut idle, "an idle keep-alive connection").await;
    server.stop().await;
}

#[tokio::test]
async fn body_that_stops_gets_408_and_is_closed() {
    let server = TestServer::start_with_options(short_deadlines()).await;
    for (path, format_marker) in [
        ("/oauth/token", "\"error\":\"invalid_request\""),
        ("/u/login", "<html"),
        ("/api/v2/clients", "\"statusCode\":408"),
    ] {
        let mut stream = connect(&server).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 100\r\n\r\ngrant_type="
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        let answer = read_until_closed(&mut stream, path).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer:?}");
        assert!(answer.contains(format_marker), "{path}: {answer:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn chunked_body_that_stops_gets_408_and_is_closed() {
    let server = TestServer::start_with_options(short_deadlines()).await;
    let mut stream = connect(&server).await;
    stream
        .write_all(
            b"POST /oauth/token HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/x-www-form-urlencoded\r\n\
              Transfer-Encoding: chunked\r\n\r\nb\r\ngrant_type=\r\n",
        )
        .await
        .expect("write");
    let answer = read_until_closed(&mut stream, "a chunked body that stops").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        answer.contains("\"error\":\"invalid_request\""),
        "{answer:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn h2c_prior_knowledge_is_refused_on_the_plain_listener() {
    let server = TestServer::start().await;
    let mut stream = connect(&server).await;
    // The client preface, then an empty SETTINGS frame.
    let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    opening.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    stream.write_all(&opening).await.expect("write");
    let answer = read_until_closed(&mut stream, "an HTTP/2 preface").await;
    assert!(answer.starts_with("HTTP/1.1 505"), "{answer:?}");
    // HTTP/1.1 on the same listener is still served.
    let mut stream = connect(&server).await;
    stream.write_all(HEALTHZ).await.expect("write");
    let response = read_response(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
    server.stop().await;
}

#[tokio::test]
async fn connections_over_the_cap_wait_for_a_free_slot() {
    let server = TestServer::start_with_options(ServeOptions {
        max_connections: 2,
        ..ServeOptions::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&server).await;
        stream.write_all(HEALTHZ).await.expect("write");
        let response = read_response(&mut stream).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
        held.push(stream);
    }
    let mut third = connect(&server).await;
    third.write_all(HEALTHZ).await.expect("write");
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "the third connection was answered while two were held: {early:?}"
    );
    drop(held.pop());
    let response = read_response(&mut third).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response:?}");
    drop(held);
    server.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_they_are_sent() {
    let server = TestServer::start().await;
    for (path, length, format_marker) in [
        ("/u/login", 2_000_000, "<html"),
        ("/oidc/logout", 2_000_000, "<html"),
        ("/oauth/token", 2_000_000, "\"error\":\"invalid_request\""),
        ("/oauth/introspect", 70_000, "\"error\":\"invalid_request\""),
        ("/api/v2/clients", 2_000_000, "\"statusCode\":413"),
    ] {
        let mut stream = connect(&server).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {length}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        let answer = read_until_closed(&mut stream, path).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer:?}");
        assert!(answer.contains(format_marker), "{path}: {answer:?}");
    }
    // A body without a declared length is cut off at the same limit.
    let mut stream = connect(&server).await;
    let chunk = "a".repeat(70_000);
    let request = format!(
        "POST /u/login HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n",
        chunk.len()
    );
    // The server may close before it has read all of it.
    let _ = stream.write_all(request.as_bytes()).await;
    let answer = read_until_closed(&mut stream, "a chunked body").await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    // The Management API takes up to 1 MB: 100 kB reaches its own checks.
    let reply = server
        .http
        .post(server.url("/api/v2/clients"))
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{}\"}}", "a".repeat(100_000)))
        .send()
        .await
        .expect("send");
    assert_eq!(reply.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn plain_http_sends_no_hsts() {
    let server = TestServer::start().await;
    let reply = server.get("/healthz").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("strict-transport-security"), None);
    server.stop().await;
}
