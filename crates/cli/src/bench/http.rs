//! A lean HTTP/1.1 keep-alive client for the load generator: one TCP
//! connection, requests sent as pre-built bytes, answers parsed just enough
//! (status line, `Content-Length`, chunked bodies, `Connection: close`).
//!
//! reqwest and hyper would measure their own machinery too; this reads each
//! answer completely, so the connection is reused, and reconnects only when
//! the server closed it.

use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest answer (head and body) accepted; the bench's answers are a few KiB.
const MAX_ANSWER: usize = 1 << 20;

/// One keep-alive connection to `addr`, (re)opened on demand.
pub struct Connection {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    /// Bytes read but not yet consumed.
    input: Vec<u8>,
    /// The last answer's body (de-chunked).
    body: Vec<u8>,
}

/// Where the server closed a reused connection before answering: the request
/// is sent again once on a new connection (the keep-alive race every client has).
#[derive(Debug)]
struct ClosedBeforeAnswer;

impl std::fmt::Display for ClosedBeforeAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the server closed the connection before answering")
    }
}

impl std::error::Error for ClosedBeforeAnswer {}

/// The head of an answer, as far as the client needs it.
struct Head {
    status: u16,
    framing: Framing,
    keep_alive: bool,
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

impl Connection {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            stream: None,
            input: Vec::with_capacity(16 * 1024),
            body: Vec::with_capacity(16 * 1024),
        }
    }

    /// Forgets the connection (after a request was abandoned half-way).
    pub fn reset(&mut self) {
        self.stream = None;
        self.input.clear();
    }

    /// The body of the last answer.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Sends `request` and reads the whole answer; returns its status (the body
    /// is then [`Connection::body`]).
    pub async fn exchange(&mut self, request: &[u8]) -> io::Result<u16> {
        let reused = self.stream.is_some();
        match self.try_exchange(request).await {
            Err(e) if reused && is_closed_before_answer(&e) => {
                self.stream = None;
                self.try_exchange(request).await
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
            ok => ok,
        }
    }

    async fn try_exchange(&mut self, request: &[u8]) -> io::Result<u16> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
            self.input.clear();
        }
        let stream = self.stream.as_mut().ok_or(io::ErrorKind::NotConnected)?;
        if let Err(e) = stream.write_all(request).await {
            return Err(closed_if_reset(e));
        }
        let head = self.read_head().await?;
        self.read_body(&head).await?;
        if !head.keep_alive {
            self.stream = None;
        }
        Ok(head.status)
    }

    /// Reads until the end of the head and parses it, leaving the head's
    /// bytes consumed.
    async fn read_head(&mut self) -> io::Result<Head> {
        loop {
            if let Some(end) = find(&self.input, b"\r\n\r\n") {
                let head = parse_head(&self.input[..end])?;
                self.input.drain(..end + 4);
                return Ok(head);
            }
            if self.fill().await? == 0 {
                return Err(if self.input.is_empty() {
                    io::Error::other(ClosedBeforeAnswer)
                } else {
                    io::ErrorKind::UnexpectedEof.into()
                });
            }
        }
    }

    async fn read_body(&mut self, head: &Head) -> io::Result<()> {
        self.body.clear();
        match head.framing {
            Framing::Length(0) => Ok(()),
            Framing::Length(n) => self.read_exact_into_body(n).await,
            Framing::Chunked => self.read_chunks().await,
            Framing::UntilClose => self.read_to_close().await,
        }
    }

    async fn read_exact_into_body(&mut self, n: usize) -> io::Result<()> {
        if n > MAX_ANSWER {
            return Err(io::Error::other("answer too large"));
        }
        while self.input.len() < n {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        self.body.extend_from_slice(&self.input[..n]);
        self.input.drain(..n);
        Ok(())
    }

    async fn read_chunks(&mut self) -> io::Result<()> {
        loop {
            let line = self.read_line().await?;
            let size_text = line.split(|&b| b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size_text)
                .ok()
                .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
                .ok_or_else(|| io::Error::other("bad chunk size"))?;
            if size == 0 {
                // Trailers, if any, end with an empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(());
            }
            if self.body.len() + size > MAX_ANSWER {
                return Err(io::Error::other("answer too large"));
            }
            while self.input.len() < size + 2 {
                if self.fill().await? == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            self.body.extend_from_slice(&self.input[..size]);
            self.input.drain(..size + 2);
        }
    }

    /// One CRLF-terminated line, without the CRLF.
    async fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(end) = find(&self.input, b"\r\n") {
                let line = self.input[..end].to_vec();
                self.input.drain(..end + 2);
                return Ok(line);
            }
            if self.input.len() > MAX_ANSWER || self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    async fn read_to_close(&mut self) -> io::Result<()> {
        while self.fill().await? > 0 {
            if self.input.len() > MAX_ANSWER {
                return Err(io::Error::other("answer too large"));
            }
        }
        self.body.append(&mut self.input);
        Ok(())
    }

    /// Reads what the socket has into `input`; 0 at end of stream.
    async fn fill(&mut self) -> io::Result<usize> {
        let stream = self.stream.as_mut().ok_or(io::ErrorKind::NotConnected)?;
        self.input.reserve(16 * 1024);
        stream
            .read_buf(&mut self.input)
            .await
            .map_err(closed_if_reset)
    }
}

fn closed_if_reset(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
            io::Error::other(ClosedBeforeAnswer)
        }
        _ => e,
    }
}

fn is_closed_before_answer(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<ClosedBeforeAnswer>())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &[u8]) -> io::Result<Head> {
    let text = std::str::from_utf8(head).map_err(|_| io::Error::other("head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split(' ');
    let version = parts.next().unwrap_or_default();
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
    let mut keep_alive = version == "HTTP/1.1";
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().map_err(|_| io::Error::other("bad length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            let value = value.to_ascii_lowercase();
            if value.contains("close") {
                keep_alive = false;
            } else if value.contains("keep-alive") {
                keep_alive = true;
            }
        }
    }
    let framing = match (chunked, length) {
        (true, _) => Framing::Chunked,
        (false, Some(n)) => Framing::Length(n),
        (false, None) if status == 204 || status == 304 || status < 200 => Framing::Length(0),
        (false, None) => {
            keep_alive = false;
            Framing::UntilClose
        }
    };
    Ok(Head {
        status,
        framing,
        keep_alive,
    })
}

/// A GET request's bytes.
pub fn get(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n").into_bytes()
}

/// A form POST's bytes.
pub fn post_form(host: &str, path: &str, form: &str) -> Vec<u8> {
    post(host, path, "application/x-www-form-urlencoded", form)
}

/// A JSON POST's bytes.
pub fn post_json(host: &str, path: &str, json: &str) -> Vec<u8> {
    post(host, path, "application/json", json)
}

fn post(host: &str, path: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers each request on one connection with the next
    /// canned answer, then closes.
    async fn serve(answers: Vec<&'static str>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = vec![0u8; 4096];
            for answer in answers {
                let mut seen = Vec::new();
                while find(&seen, b"\r\n\r\n").is_none() {
                    let n = socket.read(&mut buffer).await.unwrap();
                    assert!(n > 0, "client closed early");
                    seen.extend_from_slice(&buffer[..n]);
                }
                socket.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn reads_length_and_chunked_bodies_on_one_connection() {
        let addr = serve(vec![
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n",
        ])
        .await;
        let mut connection = Connection::new(addr);
        let request = get("h", "/");
        assert_eq!(connection.exchange(&request).await.unwrap(), 200);
        assert_eq!(connection.body(), b"hello");
        assert_eq!(connection.exchange(&request).await.unwrap(), 201);
        assert_eq!(connection.body(), b"abcde");
        assert_eq!(connection.exchange(&request).await.unwrap(), 204);
        assert_eq!(connection.body(), b"");
    }

    #[tokio::test]
    async fn reconnects_once_when_the_server_closed_a_kept_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for _ in 0..2 {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buffer = vec![0u8; 4096];
                let _ = socket.read(&mut buffer).await.unwrap();
                socket
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .await
                    .unwrap();
                // Closed without a `Connection: close`, as an idle timeout does.
            }
        });
        let mut connection = Connection::new(addr);
        let request = get("h", "/");
        assert_eq!(connection.exchange(&request).await.unwrap(), 200);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(connection.exchange(&request).await.unwrap(), 200);
        assert_eq!(connection.body(), b"ok");
    }

    #[test]
    fn an_answer_without_length_is_read_to_the_close() {
        let head = parse_head(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain").unwrap();
        assert!(matches!(head.framing, Framing::UntilClose));
        assert!(!head.keep_alive);
        let head =
            parse_head(b"HTTP/1.1 200 OK\r\nconnection: Close\r\ncontent-length: 3").unwrap();
        assert!(matches!(head.framing, Framing::Length(3)));
        assert!(!head.keep_alive);
    }
}
