//! SMTP: parsing `--smtp-url` and delivering one message with lettre over
//! rustls, with the TLS policy and the error classification the queue relies on.

use crate::{SendError, SmtpSettings, SmtpUrlError};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use percent_encoding::percent_decode_str;
use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

/// The whole SMTP exchange (connect, TLS, AUTH, DATA) gives up after this.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);
const SUBMISSION_PORT: u16 = 587;
const SMTPS_PORT: u16 = 465;

pub(crate) fn parse_url(url: &str) -> Result<SmtpSettings, SmtpUrlError> {
    let err = |m: &str| SmtpUrlError(m.to_string());
    let (scheme, rest) = url
        .trim()
        .split_once("://")
        .ok_or_else(|| err("expected smtp://[user[:pass]@]host[:port] or smtps://…"))?;
    let implicit_tls = match scheme.to_ascii_lowercase().as_str() {
        "smtp" => false,
        "smtps" => true,
        _ => {
            // The scheme is echoed only when it is short and plain (never credentials).
            let shown = if scheme.len() <= 16 && scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
                scheme
            } else {
                "?"
            };
            return Err(SmtpUrlError(format!(
                "unsupported scheme {shown:?}: use smtp:// (STARTTLS) or smtps:// (implicit TLS)"
            )));
        }
    };
    // The last `@` ends the credentials: an unencoded `@` in a password still parses.
    let (userinfo, hostport) = match rest.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, rest),
    };
    let hostport = hostport.strip_suffix('/').unwrap_or(hostport);
    if hostport.contains(['/', '?', '#']) {
        return Err(err(
            "a path, query or fragment is not allowed after the host",
        ));
    }
    let (host, port) = split_host_port(hostport)?;
    let port = match port {
        None if implicit_tls => SMTPS_PORT,
        None => SUBMISSION_PORT,
        Some(p) => parse_port(p)?,
    };
    let (username, password) = match userinfo {
        Some(info) => parse_userinfo(info)?,
        None => (None, None),
    };
    Ok(SmtpSettings {
        host,
        port,
        username,
        password,
        implicit_tls,
    })
}

/// `host[:port]` or `[v6][:port]`; the host comes back lowercased, without brackets.
fn split_host_port(hostport: &str) -> Result<(String, Option<&str>), SmtpUrlError> {
    let err = |m: &str| SmtpUrlError(m.to_string());
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (addr, after) = inner
            .split_once(']')
            .ok_or_else(|| err("unclosed [ in the host"))?;
        addr.parse::<Ipv6Addr>()
            .map_err(|_| err("invalid IPv6 address in the host"))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| err("unexpected text after the IPv6 address"))?,
            ),
        };
        (addr, port)
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(err("missing host"));
    }
    let valid = host.contains(':')
        || host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !valid {
        return Err(err("invalid host name"));
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// A host name or IP address as an SMTP host (IPv6 with or without brackets),
/// lowercased: the check `--smtp-url` applies, for a host given on its own.
pub(crate) fn check_host(host: &str) -> Result<String, SmtpUrlError> {
    let bracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    let bare = bracketed.unwrap_or(host);
    if bracketed.is_some() || bare.contains(':') {
        return bare
            .parse::<Ipv6Addr>()
            .map(|_| bare.to_ascii_lowercase())
            .map_err(|_| SmtpUrlError("invalid IPv6 address in the host".into()));
    }
    if bare.len() > 253 {
        return Err(SmtpUrlError(
            "the host name is longer than 253 characters".into(),
        ));
    }
    match split_host_port(bare)? {
        (host, None) => Ok(host),
        (_, Some(_)) => Err(SmtpUrlError("invalid host name".into())),
    }
}

fn parse_port(text: &str) -> Result<u16, SmtpUrlError> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 && text.chars().all(|c| c.is_ascii_digit()) => Ok(port),
        _ => {
            let shown: String = text.chars().take(12).collect();
            Err(SmtpUrlError(format!(
                "invalid port {shown:?}: expected 1 to 65535"
            )))
        }
    }
}

type Userinfo = (Option<String>, Option<String>);

fn parse_userinfo(info: &str) -> Result<Userinfo, SmtpUrlError> {
    let (user, pass) = match info.split_once(':') {
        Some((user, pass)) => (user, Some(pass)),
        None => (info, None),
    };
    let user = decode(user, "user name")?;
    let pass = pass.map(|p| decode(p, "password")).transpose()?;
    if user.is_empty() {
        return match pass {
            Some(_) => Err(SmtpUrlError("a password needs a user name".into())),
            None => Ok((None, None)),
        };
    }
    Ok((Some(user), pass))
}

fn decode(text: &str, what: &str) -> Result<String, SmtpUrlError> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| SmtpUrlError(format!("the {what} is not UTF-8 once percent-decoded")))
}

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// STARTTLS or no delivery.
    Required,
    /// STARTTLS when offered.
    Opportunistic,
}

/// A password never crosses the network in clear: with credentials, STARTTLS
/// is optional only on loopback (a local relay).
pub(crate) fn tls_mode(settings: &SmtpSettings) -> TlsMode {
    if settings.implicit_tls {
        TlsMode::Implicit
    } else if settings.username.is_some() && !is_loopback(&settings.host) {
        TlsMode::Required
    } else {
        TlsMode::Opportunistic
    }
}

/// Judged on the name as written: a name that merely resolves to loopback is remote.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub(crate) async fn send(settings: &SmtpSettings, email: lettre::Message) -> Result<(), SendError> {
    let transport = transport(settings)?;
    match tokio::time::timeout(TIMEOUT, transport.send(email)).await {
        Err(_) => Err(SendError::transient(format!(
            "SMTP {}:{}: no answer within {} s",
            settings.host,
            settings.port,
            TIMEOUT.as_secs()
        ))),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify(settings, &e)),
    }
}

fn transport(settings: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
    let params = TlsParameters::new_rustls(settings.host.clone())
        .map_err(|e| SendError::transient(format!("TLS setup: {e}")))?;
    let tls = match tls_mode(settings) {
        TlsMode::Implicit => Tls::Wrapper(params),
        TlsMode::Required => Tls::Required(params),
        TlsMode::Opportunistic => Tls::Opportunistic(params),
    };
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
            .port(settings.port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
    if let Some(user) = &settings.username {
        let password = settings.password.clone().unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    Ok(builder.build())
}

/// A 5xx reply is final; anything else (refused, timed out, 4xx, TLS) may pass later.
fn classify(settings: &SmtpSettings, error: &lettre::transport::smtp::Error) -> SendError {
    let reason = format!("SMTP {}:{}: {error}", settings.host, settings.port);
    if error.is_permanent() {
        SendError::permanent(reason)
    } else {
        SendError::transient(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<SmtpSettings, String> {
        parse_url(url).map_err(|e| e.to_string())
    }

    fn settings(
        host: &str,
        port: u16,
        user: Option<&str>,
        pass: Option<&str>,
        tls: bool,
    ) -> SmtpSettings {
        SmtpSettings {
            host: host.into(),
            port,
            username: user.map(Into::into),
            password: pass.map(Into::into),
            implicit_tls: tls,
        }
    }

    #[test]
    fn urls_parse() {
        let table = [
            (
                "smtp://mail.example.com",
                settings("mail.example.com", 587, None, None, false),
            ),
            (
                "smtp://mail.example.com:2525",
                settings("mail.example.com", 2525, None, None, false),
            ),
            (
                "smtps://mail.example.com",
                settings("mail.example.com", 465, None, None, true),
            ),
            (
                "SMTPS://Mail.Example.com:10465/",
                settings("mail.example.com", 10465, None, None, true),
            ),
            (
                "smtp://user@host",
                settings("host", 587, Some("user"), None, false),
            ),
            (
                "smtp://user:pass@host:25",
                settings("host", 25, Some("user"), Some("pass"), false),
            ),
            (
                "smtp://me%40example.com:p%3Aa%2Fs%25s@smtp.example.com",
                settings(
                    "smtp.example.com",
                    587,
                    Some("me@example.com"),
                    Some("p:a/s%s"),
                    false,
                ),
            ),
            (
                "smtp://u:p@ss@host",
                settings("host", 587, Some("u"), Some("p@ss"), false),
            ),
            (
                "smtp://u:@host",
                settings("host", 587, Some("u"), Some(""), false),
            ),
            (
                "smtp://127.0.0.1:1025",
                settings("127.0.0.1", 1025, None, None, false),
            ),
            (
                "smtp://[::1]:1025",
                settings("::1", 1025, None, None, false),
            ),
            (
                "smtps://[2001:db8::1]",
                settings("2001:db8::1", 465, None, None, true),
            ),
            ("smtp://@host", settings("host", 587, None, None, false)),
        ];
        for (url, want) in table {
            assert_eq!(
                parse(url).unwrap_or_else(|e| panic!("{url}: {e}")),
                want,
                "{url}"
            );
        }
    }

    #[test]
    fn bad_urls_are_refused_clearly() {
        let table = [
            ("http://host", "unsupported scheme \"http\""),
            ("smtp+tls://host", "unsupported scheme \"?\""),
            ("host:25", "expected smtp://"),
            ("smtp://", "missing host"),
            ("smtp://user:pass@", "missing host"),
            ("smtp://:25", "missing host"),
            ("smtp://host:", "invalid port \"\""),
            ("smtp://host:0", "invalid port \"0\""),
            ("smtp://host:65536", "invalid port \"65536\""),
            ("smtp://host:+25", "invalid port \"+25\""),
            ("smtp://host:abc", "invalid port \"abc\""),
            ("smtp://host/path", "a path, query or fragment"),
            ("smtp://host?x=1", "a path, query or fragment"),
            ("smtp://ho st", "invalid host name"),
            ("smtp://host\r\nRCPT", "invalid host name"),
            ("smtp://[::1", "unclosed ["),
            ("smtp://[nope]", "invalid IPv6"),
            ("smtp://[::1]x", "unexpected text"),
            ("smtp://:secret@host", "a password needs a user name"),
            ("smtp://u:%FF@host", "password is not UTF-8"),
        ];
        for (url, want) in table {
            let got = parse(url).expect_err(url);
            assert!(got.contains(want), "{url}: {got:?} lacks {want:?}");
        }
    }

    #[test]
    fn errors_never_echo_the_password() {
        for url in [
            "ftp://u:hunter2@host",
            "smtp://u:hunter2@host:99999",
            "smtp://u:hunter2@",
        ] {
            let got = parse(url).expect_err(url);
            assert!(!got.contains("hunter2"), "{url}: {got}");
        }
        let debug = format!("{:?}", parse("smtp://u:hunter2@host").unwrap());
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn hosts_alone_are_checked() {
        assert_eq!(check_host("Mail.Example.com").unwrap(), "mail.example.com");
        assert_eq!(check_host("[::1]").unwrap(), "::1");
        assert_eq!(check_host("2001:DB8::1").unwrap(), "2001:db8::1");
        for bad in [
            "",
            "a@b",
            "a/b",
            "a b",
            "host:25",
            "[nope]",
            "x\r\ny",
            &"a".repeat(254),
        ] {
            assert!(check_host(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn credentials_to_a_remote_host_require_tls() {
        let mode = |url: &str| tls_mode(&parse(url).unwrap());
        assert_eq!(mode("smtps://u:p@mail.example.com"), TlsMode::Implicit);
        assert_eq!(mode("smtp://u:p@mail.example.com"), TlsMode::Required);
        assert_eq!(mode("smtp://u:p@10.0.0.5"), TlsMode::Required);
        // A name that resolves to loopback is not trusted as loopback.
        assert_eq!(mode("smtp://u:p@localhost.example.com"), TlsMode::Required);
        assert_eq!(mode("smtp://u:p@127.0.0.1:1025"), TlsMode::Opportunistic);
        assert_eq!(mode("smtp://u:p@[::1]:1025"), TlsMode::Opportunistic);
        assert_eq!(mode("smtp://u:p@LocalHost:1025"), TlsMode::Opportunistic);
        assert_eq!(mode("smtp://mail.example.com"), TlsMode::Opportunistic);
    }
}
