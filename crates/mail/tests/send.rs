//! Delivering real messages: to the outbox, and over SMTP to Python's aiosmtpd
//! (a real SMTP server; skipped with a message when aiosmtpd is not installed).

use gatehouse_mail::templates::{self, TemplateContext, TemplateUser, VERIFY_EMAIL};
use gatehouse_mail::{Mailer, Message, SmtpSettings, Transport};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LINK: &str =
    "https://auth.example.com/u/email-verification?ticket=0123456789abcdef0123456789abcdef&lang=en";

fn verify_message(to: &str) -> Message {
    let context = TemplateContext {
        url: LINK.into(),
        user: TemplateUser {
            email: to.into(),
            ..TemplateUser::default()
        },
        ..TemplateContext::default()
    };
    let rendered = templates::render(
        &templates::default_template(VERIFY_EMAIL).unwrap(),
        &context,
    )
    .unwrap();
    Message {
        from: "Gatehouse <no-reply@gatehouse.example>".into(),
        to: to.into(),
        subject: rendered.subject,
        html: rendered.html,
    }
}

/// The message with its quoted-printable parts decoded (soft breaks joined, `=XX` decoded).
fn decode_qp(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// What every delivered verification message must hold.
fn assert_verify_message(raw: &str, to: &str) {
    assert!(raw.contains(&format!("To: {to}\r\n")), "{raw}");
    assert!(
        raw.contains("From: Gatehouse <no-reply@gatehouse.example>\r\n"),
        "{raw}"
    );
    assert!(raw.contains("Subject: Verify your email\r\n"), "{raw}");
    assert!(raw.contains("\r\nDate: "), "{raw}");
    assert!(
        raw.contains("\r\nMessage-ID: <") && raw.contains("@gatehouse.example>"),
        "{raw}"
    );
    assert!(
        raw.contains("Content-Type: multipart/alternative;"),
        "{raw}"
    );
    let decoded = decode_qp(raw);
    let plain = decoded
        .find("Content-Type: text/plain")
        .expect("a text/plain part");
    let html = decoded
        .find("Content-Type: text/html")
        .expect("a text/html part");
    assert!(plain < html, "plain first, HTML preferred");
    let (text_part, html_part) = decoded.split_at(html);
    // The text part shows the link as is; the HTML part escapes its `&`.
    assert!(text_part[plain..].contains(LINK), "{decoded}");
    assert!(!text_part[plain..].contains("<p"), "{decoded}");
    assert!(
        html_part.contains(&format!("href=\"{}\"", LINK.replace('&', "&amp;"))),
        "{decoded}"
    );
    assert!(html_part.contains(&format!("Hello {to},")), "{decoded}");
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn the_outbox_holds_the_message_lettre_would_send() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data").join("outbox");
    let mailer = Mailer::new(Transport::Outbox(dir.clone()));
    mailer
        .send(&verify_message("ann@example.com"))
        .await
        .unwrap();
    mailer
        .send(&verify_message("bob@example.com"))
        .await
        .unwrap();

    let files = eml_files(&dir);
    assert_eq!(
        files.len(),
        2,
        "{files:?}: one file per message, no temporary left"
    );
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let (nanos, rest) = name.split_once('-').unwrap();
        assert!(nanos.parse::<u128>().is_ok(), "{name}");
        assert!(rest.ends_with(".eml") && rest.len() == 16 + 4, "{name}");
    }
    assert_verify_message(
        &std::fs::read_to_string(&files[0]).unwrap(),
        "ann@example.com",
    );
    assert_verify_message(
        &std::fs::read_to_string(&files[1]).unwrap(),
        "bob@example.com",
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&files[0]), 0o600);
    }
}

#[tokio::test]
async fn invalid_addresses_are_permanent_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = Mailer::new(Transport::Outbox(tmp.path().to_path_buf()));
    for (from, to) in [
        ("no-reply@gatehouse.example", "not an address"),
        (
            "no-reply@gatehouse.example",
            "a@example.com\r\nBcc: victim@example.com",
        ),
        ("no reply", "a@example.com"),
    ] {
        let mut message = verify_message("a@example.com");
        message.from = from.into();
        message.to = to.into();
        let err = mailer.send(&message).await.expect_err(to);
        assert!(err.permanent, "{to}: {err}");
    }
    assert!(eml_files(tmp.path()).is_empty());
}

#[tokio::test]
async fn a_closed_port_is_a_quick_transient_failure() {
    // Bind then drop: the port is free and nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mailer = Mailer::new(Transport::Smtp(settings(port, None)));
    let started = Instant::now();
    let err = mailer
        .send(&verify_message("a@example.com"))
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

fn settings(port: u16, credentials: Option<(&str, &str)>) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        username: credentials.map(|c| c.0.to_string()),
        password: credentials.map(|c| c.1.to_string()),
        implicit_tls: false,
    }
}

/// aiosmtpd on a free loopback port, ended when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

/// The Python with aiosmtpd: `GATEHOUSE_TEST_PYTHON` (scripts/test.sh points it
/// at the project's venv), else `python3`.
fn python() -> String {
    std::env::var("GATEHOUSE_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

impl SmtpServer {
    fn start() -> Option<Self> {
        let available = Command::new(python())
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            println!("skipped: python3 with aiosmtpd is not installed (pip install aiosmtpd); the e2e suite covers real SMTP");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aiosmtpd_server.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("aiosmtpd did not start: {line:?}"));
        Some(Self { child, port, dir })
    }

    /// The `n`th delivered message (1-based) and its envelope, waiting briefly for it.
    fn delivered(&self, n: usize) -> (String, serde_json::Value) {
        let eml = self.dir.path().join(format!("{n}.eml"));
        let deadline = Instant::now() + Duration::from_secs(5);
        while !eml.exists() {
            assert!(Instant::now() < deadline, "message {n} was not delivered");
            std::thread::sleep(Duration::from_millis(20));
        }
        let envelope = std::fs::read_to_string(self.dir.path().join(format!("{n}.json"))).unwrap();
        (
            std::fs::read_to_string(eml).unwrap(),
            serde_json::from_str(&envelope).unwrap(),
        )
    }

    fn auth_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("auth.log")).unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn smtp_delivers_to_a_real_server() {
    let Some(server) = SmtpServer::start() else {
        return;
    };
    let mailer = Mailer::new(Transport::Smtp(settings(server.port, None)));
    mailer
        .send(&verify_message("ann@example.com"))
        .await
        .unwrap();
    let (raw, envelope) = server.delivered(1);
    assert_verify_message(&raw, "ann@example.com");
    assert_eq!(envelope["to"], serde_json::json!(["ann@example.com"]));
    assert_eq!(envelope["from"], "no-reply@gatehouse.example");
    assert_eq!(envelope["auth"], false);
}

#[tokio::test]
async fn smtp_authenticates_on_loopback() {
    let Some(server) = SmtpServer::start() else {
        return;
    };
    let url = format!("smtp://mailer:s3cret%3A%40%2Fpw@127.0.0.1:{}", server.port);
    let mailer = Mailer::new(Transport::Smtp(SmtpSettings::from_url(&url).unwrap()));
    mailer
        .send(&verify_message("ann@example.com"))
        .await
        .unwrap();
    let (_, envelope) = server.delivered(1);
    assert_eq!(envelope["auth"], true);
    assert!(
        server.auth_log().contains("b'mailer'"),
        "{}",
        server.auth_log()
    );

    let wrong = Mailer::new(Transport::Smtp(settings(
        server.port,
        Some(("mailer", "wrong")),
    )));
    let err = wrong
        .send(&verify_message("ann@example.com"))
        .await
        .unwrap_err();
    assert!(err.permanent, "a refused login is a 5xx: {err}");
}

#[tokio::test]
async fn smtp_replies_decide_permanent_or_transient() {
    let Some(server) = SmtpServer::start() else {
        return;
    };
    let mailer = Mailer::new(Transport::Smtp(settings(server.port, None)));
    let err = mailer
        .send(&verify_message("reject@example.com"))
        .await
        .unwrap_err();
    assert!(err.permanent, "550: {err}");
    assert!(
        err.reason.contains("550") || err.reason.contains("no such user"),
        "{err}"
    );
    let err = mailer
        .send(&verify_message("later@example.com"))
        .await
        .unwrap_err();
    assert!(!err.permanent, "451: {err}");
}

#[tokio::test]
async fn credentials_never_go_in_clear_to_a_host_that_is_not_loopback() {
    let Some(server) = SmtpServer::start() else {
        return;
    };
    // The same loopback server, reached through an address that is not
    // written as loopback: STARTTLS becomes required, which it does not offer.
    let mut remote = settings(server.port, Some(("mailer", "s3cret:@/pw")));
    remote.host = "::ffff:127.0.0.1".into();
    let err = Mailer::new(Transport::Smtp(remote))
        .send(&verify_message("ann@example.com"))
        .await
        .unwrap_err();
    assert!(!err.permanent, "{err}");
    assert!(
        err.reason.to_lowercase().contains("starttls") || err.reason.contains("tls"),
        "{err}"
    );
    assert_eq!(server.auth_log(), "", "no AUTH was attempted");
    assert!(!server.dir.path().join("1.eml").exists());
}
