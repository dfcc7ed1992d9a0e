//! Turning a [`Message`] into an RFC 5322 message (lettre's builder):
//! multipart/alternative with a plain-text part derived from the HTML.

use crate::{Message, SendError};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Address;
use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn build(message: &Message) -> Result<lettre::Message, SendError> {
    let from: Mailbox = message
        .from
        .trim()
        .parse()
        .map_err(|e| SendError::permanent(format!("invalid sender address: {e}")))?;
    // A bare address only: a display name would let the text stored as the
    // user's email differ from where the mail goes (`Boss<attacker@…>`).
    let to = Mailbox::new(
        None,
        message
            .to
            .trim()
            .parse::<Address>()
            .map_err(|e| SendError::permanent(format!("invalid recipient address: {e}")))?,
    );
    let message_id = format!("<{}@{}>", unique_token(), from.email.domain());
    let text = html_to_text(&message.html);
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(one_line(&message.subject))
        .date_now()
        .message_id(Some(message_id))
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, text))
                .singlepart(part(ContentType::TEXT_HTML, message.html.clone())),
        )
        .map_err(|e| SendError::permanent(format!("the message cannot be built: {e}")))
}

/// Whether `text` is a usable sender or recipient (`Name <address>` or a bare
/// address); the error says why not.
pub fn check_address(text: &str) -> Result<(), String> {
    if text.chars().any(char::is_control) {
        return Err("an address cannot hold control characters".into());
    }
    text.trim()
        .parse::<Mailbox>()
        .map(drop)
        .map_err(|e| format!("not an email address ({e})"))
}

/// Quoted-printable keeps the parts readable in an `.eml` and safe for any SMTP server.
fn part(content_type: ContentType, body: String) -> SinglePart {
    SinglePart::builder()
        .header(content_type)
        .header(ContentTransferEncoding::QuotedPrintable)
        .body(body)
}

/// A header is one line: a rendered subject's line breaks and controls become spaces.
fn one_line(subject: &str) -> String {
    let spaced: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `<unix-nanos>-<random hex>`: unique per message, and sorts by time.
pub(crate) fn unique_token() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    // RandomState is seeded from the OS and differs per instance.
    let random = RandomState::new().hash_one(nanos);
    format!("{nanos}-{random:016x}")
}

/// A plain-text rendering of an email's HTML: tags dropped (`<style>`,
/// `<script>` and `<head>` with their content), block ends as line breaks, the
/// common entities decoded, and each link's URL kept visible after its text.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut pending_href: Vec<Option<String>> = Vec::new();
    let mut link_start = Vec::new();
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt..];
        let Some(end) = tag_end(after) else {
            // A lone `<` is text.
            out.push_str(&decode_entities(after));
            rest = "";
            break;
        };
        let tag = &after[1..end];
        rest = &after[end + 1..];
        let name = tag_name(tag);
        match name.as_str() {
            "style" | "script" | "head" | "title" => rest = skip_element(rest, &name),
            "a" => {
                pending_href.push(attribute(tag, "href"));
                link_start.push(out.len());
            }
            "/a" => {
                let start = link_start.pop().unwrap_or(out.len());
                if let Some(Some(href)) = pending_href.pop() {
                    append_link(&mut out, start, &href);
                }
            }
            "br" => out.push('\n'),
            "li" => out.push_str("\n- "),
            "p" | "/p" | "div" | "/div" | "tr" | "/tr" | "table" | "/table" | "h1" | "/h1"
            | "h2" | "/h2" | "h3" | "/h3" | "ul" | "/ul" | "ol" | "/ol" | "hr" | "/li" => {
                out.push('\n')
            }
            "td" | "th" => out.push(' '),
            _ => {}
        }
    }
    out.push_str(&decode_entities(rest));
    tidy(&out)
}

/// The link text followed by its URL, unless the text already is the URL.
fn append_link(out: &mut String, start: usize, href: &str) {
    let href = decode_entities(href);
    if href.starts_with('#') || href.to_ascii_lowercase().starts_with("javascript:") {
        return;
    }
    let text = out[start..].trim().to_string();
    if text.is_empty() {
        out.push_str(&href);
    } else if text != href {
        out.push_str(&format!(" ({href})"));
    }
}

/// The index of the `>` closing the tag at the start of `s`, quotes respected.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn tag_name(tag: &str) -> String {
    let tag = tag.trim_start();
    let (slash, body) = match tag.strip_prefix('/') {
        Some(body) => ("/", body.trim_start()),
        None => ("", tag),
    };
    let name: String = body
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
        .collect();
    format!("{slash}{}", name.to_ascii_lowercase())
}

/// The value of `name="…"` (or `'…'`, or bare) in a tag's text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let at = from + found;
        from = at + name.len();
        let before_ok = lower[..at].ends_with(|c: char| c.is_ascii_whitespace());
        let rest = tag[from..].trim_start();
        let Some(value) = rest.strip_prefix('=').map(str::trim_start) else {
            continue;
        };
        if !before_ok {
            continue;
        }
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or_default().to_string(),
            _ => value
                .split(|c: char| c.is_ascii_whitespace() || c == '>')
                .next()
                .unwrap_or_default()
                .to_string(),
        });
    }
    None
}

/// What follows `</name>` (everything when it is missing).
fn skip_element<'a>(rest: &'a str, name: &str) -> &'a str {
    let close = format!("</{name}");
    let lower = rest.to_ascii_lowercase();
    match lower.find(&close) {
        Some(at) => match rest[at..].find('>') {
            Some(gt) => &rest[at + gt + 1..],
            None => "",
        },
        None => "",
    }
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest[1..]
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| decode_entity(&rest[1..=semi]).map(|c| (c, semi + 2)));
        match entity {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    let numeric = |digits: &str, radix| {
        u32::from_str_radix(digits, radix)
            .ok()
            .and_then(char::from_u32)
    };
    match name {
        // HTML keeps the upper-case forms of these four (what `upcase` makes of them).
        "amp" | "AMP" => Some('&'),
        "lt" | "LT" => Some('<'),
        "gt" | "GT" => Some('>'),
        "quot" | "QUOT" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => match name.strip_prefix('#') {
            Some(hex) if hex.starts_with(['x', 'X']) => numeric(&hex[1..], 16),
            Some(dec) => numeric(dec, 10),
            None => None,
        },
    }
}

/// Spaces collapsed within lines, lines trimmed, at most one blank line in a row.
fn tidy(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_words_and_link_urls() {
        let html = r#"<!DOCTYPE html><html><head><title>T</title><style>p { color: red; }</style></head>
            <body><h1>Hello &amp; welcome</h1><p>Dear <b>Ann</b>,</p>
            <p><a href="https://x.example/t?a=1&amp;b=2" style="x">Verify&nbsp;my email</a></p>
            <p>Or open <a href='https://x.example/t?a=1&amp;b=2'>https://x.example/t?a=1&amp;b=2</a></p>
            <script>alert(1)</script><p>5 &lt; 6 &#38; &#x41;&#66; &bogus; AT&T &LT;b&GT; &Lt;</p></body></html>"#;
        let text = html_to_text(html);
        assert_eq!(
            text,
            "Hello & welcome\n\nDear Ann,\n\nVerify my email (https://x.example/t?a=1&b=2)\n\n\
             Or open https://x.example/t?a=1&b=2\n\n5 < 6 & AB &bogus; AT&T <b> &Lt;\n"
        );
    }

    #[test]
    fn odd_markup_does_not_break_the_text() {
        assert_eq!(html_to_text("a < b"), "a < b\n");
        assert_eq!(
            html_to_text("<a href=https://x.example>x</a>"),
            "x (https://x.example)\n"
        );
        assert_eq!(
            html_to_text("<a href=\"https://x.example\"></a>"),
            "https://x.example\n"
        );
        assert_eq!(html_to_text("<p title=\"a>b\">ok</p>"), "ok\n");
        assert_eq!(html_to_text("</a></a><style>never closed"), "\n");
        assert_eq!(
            html_to_text("<a data-href=\"no\" href=\"yes\">l</a>"),
            "l (yes)\n"
        );
    }

    #[test]
    fn addresses_are_checked() {
        for ok in [
            "a@example.com",
            "Gatehouse <no-reply@example.com>",
            "\"A, B\" <a@b.example>",
        ] {
            assert_eq!(check_address(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "nobody",
            "a@",
            "<a@b.example",
            "a@b.example\r\nBcc: c@d.example",
        ] {
            assert!(check_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_recipient_is_a_bare_address() {
        let message = |to: &str| Message {
            from: "Gatehouse <no-reply@example.com>".into(),
            to: to.into(),
            subject: "s".into(),
            html: "<p>x</p>".into(),
        };
        assert!(build(&message("ann@example.com")).is_ok());
        for to in [
            "Boss<attacker@evil.example>",
            "\"b\" <attacker@evil.example>",
        ] {
            let err = build(&message(to)).expect_err(to);
            assert!(err.permanent && err.reason.contains("recipient"), "{to}");
        }
    }

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(
            one_line("Hi\r\nBcc: evil@example.com\t x"),
            "Hi Bcc: evil@example.com x"
        );
    }
}
