//! Auth0's email templates in Liquid (the `liquid` crate): the three Gatehouse
//! sends, their built-in defaults, checking a template before it is stored,
//! and rendering one with its variables (`{{ url }}`, `{{ user.email }}`,
//! `{{ application.name }}`, …).

use serde::{Deserialize, Serialize};
use std::io::Write;

pub const VERIFY_EMAIL: &str = "verify_email";
pub const RESET_EMAIL: &str = "reset_email";
pub const WELCOME_EMAIL: &str = "welcome_email";
/// The templates Gatehouse sends, in Auth0's names.
pub const NAMES: [&str; 3] = [VERIFY_EMAIL, RESET_EMAIL, WELCOME_EMAIL];

/// A template as the Management API shows and stores it (Auth0's shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailTemplate {
    pub template: String,
    pub body: String,
    pub from: String,
    pub subject: String,
    /// Always `liquid`.
    pub syntax: String,
    /// Where the link's page sends the user when done.
    pub result_url: Option<String>,
    /// The link's lifetime.
    pub url_lifetime_in_seconds: Option<i64>,
    pub include_email_in_redirect: bool,
    /// Whether Gatehouse sends it (for `verify_email`: on signup).
    pub enabled: bool,
}

/// The variables a template sees.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TemplateContext {
    /// The link (empty for `welcome_email`).
    pub url: String,
    pub user: TemplateUser,
    pub application: TemplateApplication,
    /// The tenant's name and display name.
    pub tenant: String,
    pub friendly_name: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TemplateUser {
    pub user_id: String,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub user_metadata: serde_json::Value,
    pub app_metadata: serde_json::Value,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TemplateApplication {
    pub name: String,
    pub client_id: String,
}

/// A template whose subject or body is not valid Liquid, or that failed to render.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// The subject and body after rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub html: String,
}

/// A template body larger than this is refused.
pub const MAX_BODY_BYTES: usize = 100 * 1024;
/// A subject template larger than this is refused.
pub const MAX_SUBJECT_BYTES: usize = 2 * 1024;
/// A rendered subject or body larger than this is an error.
pub const MAX_RENDERED_BYTES: usize = 1024 * 1024;
/// A loop over a literal range covers at most this many steps…
const MAX_RANGE_STEPS: i64 = 1000;
/// …and loops nest at most this deep (the work stays polynomial and small).
const MAX_LOOP_DEPTH: usize = 2;

/// Gatehouse's built-in template `name` (one of [`NAMES`]); `None` for any other name.
pub fn default_template(name: &str) -> Option<EmailTemplate> {
    let (subject, body, lifetime, enabled) = match name {
        VERIFY_EMAIL => (
            "Verify your email",
            page(
                "Confirm your email address",
                "Please confirm that this is the email address you use for \
                 {{ application.name }}.",
                Some("Verify my email"),
                "If you did not sign up, you can ignore this message.",
            ),
            Some(432_000),
            true,
        ),
        RESET_EMAIL => (
            "Reset your password",
            page(
                "Reset your password",
                "We received a request to reset the password of your \
                 {{ application.name }} account.",
                Some("Choose a new password"),
                "If you did not ask for this, you can ignore this message: \
                 your password stays as it is.",
            ),
            Some(86_400),
            true,
        ),
        WELCOME_EMAIL => (
            "Welcome to {{ application.name }}",
            page(
                "Welcome to {{ application.name }}",
                "Your account is ready. We are glad to have you with us.",
                None,
                "You receive this message because an account was created with this address.",
            ),
            None,
            false,
        ),
        _ => return None,
    };
    Some(EmailTemplate {
        template: name.to_string(),
        body,
        from: String::new(),
        subject: subject.to_string(),
        syntax: "liquid".to_string(),
        result_url: None,
        url_lifetime_in_seconds: lifetime,
        include_email_in_redirect: false,
        enabled,
    })
}

/// The default templates' layout: a heading, a greeting, one paragraph, an
/// optional button to `{{ url }}` with the link spelled out, and a footnote.
fn page(heading: &str, paragraph: &str, button: Option<&str>, footnote: &str) -> String {
    let action = button.map_or_else(String::new, |label| {
        format!(
            r#"
      <p style="margin:28px 0"><a href="{{{{ url }}}}" style="background:#2f5fd0;color:#ffffff;padding:12px 22px;border-radius:6px;text-decoration:none;font-weight:600;display:inline-block">{label}</a></p>
      <p style="font-size:13px;color:#52606d">If the button does not work, open this link: <a href="{{{{ url }}}}" style="color:#2f5fd0;word-break:break-all">{{{{ url }}}}</a></p>"#
        )
    });
    format!(
        r#"<!DOCTYPE html>
<html>
  <body style="margin:0;padding:24px;background:#f3f4f6;font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2933;line-height:1.5">
    <div style="max-width:520px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px">
      <h1 style="font-size:20px;margin:0 0 16px">{heading}</h1>
      <p>Hello {{{{ user.email }}}},</p>
      <p>{paragraph}</p>{action}
      <p style="font-size:13px;color:#52606d">{footnote}</p>
    </div>
  </body>
</html>
"#
    )
}

/// Parses the subject and body: a template that cannot render is refused before it is stored.
pub fn check(template: &EmailTemplate) -> Result<(), TemplateError> {
    parse_both(template).map(drop)
}

/// Renders subject and body with `context` (values HTML-escaped in the body).
///
/// The body sees every string of the context (keys included) HTML-escaped, so
/// a user named `<script>` stays text whatever the template does with it; the
/// subject, a header and not HTML, sees the values as they are.
pub fn render(
    template: &EmailTemplate,
    context: &TemplateContext,
) -> Result<Rendered, TemplateError> {
    let (subject, body) = parse_both(template)?;
    let mut plain =
        serde_json::to_value(context).map_err(|e| TemplateError(format!("context: {e}")))?;
    for text in [&template.subject, &template.body] {
        for path in variable_paths(text) {
            fill_missing(&mut plain, &path);
        }
    }
    let escaped = escape_strings(plain.clone());
    Ok(Rendered {
        subject: render_one(&subject, &plain, "subject")?,
        html: render_one(&body, &escaped, "body")?,
    })
}

fn parse_both(
    template: &EmailTemplate,
) -> Result<(liquid::Template, liquid::Template), TemplateError> {
    if template.body.len() > MAX_BODY_BYTES {
        return Err(TemplateError(format!(
            "body: larger than {} KB",
            MAX_BODY_BYTES / 1024
        )));
    }
    if template.subject.len() > MAX_SUBJECT_BYTES {
        return Err(TemplateError(format!(
            "subject: larger than {} KB",
            MAX_SUBJECT_BYTES / 1024
        )));
    }
    let parser =
        crate::bounded::parser().map_err(|e| TemplateError(format!("Liquid parser: {e}")))?;
    let parse = |text: &str, part: &str| {
        check_loops(text).map_err(|e| TemplateError(format!("{part}: {e}")))?;
        parser
            .parse(text)
            .map_err(|e| TemplateError(format!("{part}: {}", e.to_string().trim())))
    };
    Ok((
        parse(&template.subject, "subject")?,
        parse(&template.body, "body")?,
    ))
}

fn render_one(
    template: &liquid::Template,
    globals: &serde_json::Value,
    part: &str,
) -> Result<String, TemplateError> {
    let globals = liquid::to_object(globals).map_err(|e| TemplateError(format!("context: {e}")))?;
    let mut out = Capped::default();
    if let Err(e) = template.render_to(&mut out, &globals) {
        return Err(TemplateError(if out.exceeded {
            format!(
                "{part}: renders larger than {} MB",
                MAX_RENDERED_BYTES / (1024 * 1024)
            )
        } else {
            format!("{part}: {}", e.to_string().trim())
        }));
    }
    String::from_utf8(out.bytes)
        .map_err(|_| TemplateError(format!("{part}: renders invalid UTF-8")))
}

/// The dotted variable paths (`user.user_metadata.plan`) a template's tags
/// and outputs mention, read loosely: filter names and keywords come along,
/// which is harmless (see [`fill_missing`]).
fn variable_paths(text: &str) -> Vec<Vec<&str>> {
    let mut paths = Vec::new();
    for inner in markup(text) {
        let mut quote = None;
        let mut start = None;
        for (i, c) in inner.char_indices().chain([(inner.len(), ' ')]) {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                continue;
            }
            let in_path = c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
            match (start, in_path) {
                (None, true) => start = Some(i),
                (Some(s), false) => {
                    let token = &inner[s..i];
                    if token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                        paths.push(token.split('.').filter(|p| !p.is_empty()).collect());
                    }
                    start = None;
                }
                _ => {}
            }
            if matches!(c, '"' | '\'') {
                quote = Some(c);
            }
        }
    }
    paths
}

/// Adds `null` where `path` leads nowhere in `context`, so a variable the
/// data lacks renders empty and is falsy, as in Auth0's Liquid, instead of
/// failing the whole mail (the `liquid` crate is strict). Nothing present is
/// changed, and nothing is added below a value that is not an object.
fn fill_missing(context: &mut serde_json::Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = context;
    for key in parents {
        let Some(object) = node.as_object_mut() else {
            return;
        };
        node = object
            .entry(key.to_string())
            .or_insert(serde_json::Value::Null);
        if node.is_null() {
            *node = serde_json::Value::Object(Default::default());
        }
    }
    if let Some(object) = node.as_object_mut() {
        object
            .entry(last.to_string())
            .or_insert(serde_json::Value::Null);
    }
}

/// A buffer that refuses to grow past [`MAX_RENDERED_BYTES`], which stops the render.
#[derive(Default)]
struct Capped {
    bytes: Vec<u8>,
    exceeded: bool,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_RENDERED_BYTES {
            self.exceeded = true;
            return Err(std::io::Error::other("rendered output too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every string in `value`, object keys included, HTML-escaped.
fn escape_strings(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(escape_html(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(escape_strings).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (escape_html(&k), escape_strings(v)))
                .collect(),
        ),
        other => other,
    }
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Bounds the work of loops, which Liquid does not: a `for`/`tablerow` range
/// `(a..b)` must have whole-number literal bounds at most [`MAX_RANGE_STEPS`]
/// apart (liquid materialises the range before looping), and loops nest at
/// most [`MAX_LOOP_DEPTH`] deep. Tags inside `raw` are text and not looked at.
fn check_loops(text: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut in_raw = false;
    for tag in tags(text) {
        let name = tag.split_whitespace().next().unwrap_or_default();
        if in_raw {
            in_raw = name != "endraw";
            continue;
        }
        match name {
            "raw" => in_raw = true,
            // Gatehouse has no partials: these could only fail when sending.
            "include" | "render" => {
                return Err(format!(
                    "{{% {name} %}} is not available: there are no partials"
                ))
            }
            "for" | "tablerow" => {
                depth += 1;
                if depth > MAX_LOOP_DEPTH {
                    return Err(format!("loops nest more than {MAX_LOOP_DEPTH} deep"));
                }
                check_range(tag)?;
            }
            "endfor" | "endtablerow" => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn check_range(tag: &str) -> Result<(), String> {
    let Some((_, after_open)) = tag.split_once('(') else {
        return Ok(());
    };
    let inner = after_open.split(')').next().unwrap_or_default();
    let Some((start, end)) = inner.split_once("..") else {
        return Ok(());
    };
    let bound = |b: &str| b.trim().parse::<i64>().ok();
    match (bound(start), bound(end)) {
        (Some(start), Some(end)) if end.saturating_sub(start) < MAX_RANGE_STEPS => Ok(()),
        (Some(_), Some(_)) => Err(format!(
            "a loop range covers more than {MAX_RANGE_STEPS} steps"
        )),
        _ => Err(format!(
            "a loop range needs whole-number bounds, e.g. (1..10), at most {MAX_RANGE_STEPS} steps"
        )),
    }
}

/// The inner text of each `{% … %}` tag, as Liquid's lexer splits them:
/// quoted strings may hold `%}`, and `{{ … }}` output is skipped whole.
fn tags(text: &str) -> Vec<&str> {
    split_markup(text, false)
}

/// The inner text of every tag and output.
fn markup(text: &str) -> Vec<&str> {
    split_markup(text, true)
}

fn split_markup(text: &str, with_outputs: bool) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let closer = if after.starts_with("{%") {
            "%}"
        } else if after.starts_with("{{") {
            "}}"
        } else {
            rest = &after[1..];
            continue;
        };
        let body = &after[2..];
        let Some(len) = find_unquoted(body, closer) else {
            break;
        };
        if closer == "%}" || with_outputs {
            found.push(
                body[..len]
                    .trim_start_matches('-')
                    .trim_end_matches('-')
                    .trim(),
            );
        }
        rest = &body[len + 2..];
    }
    found
}

fn find_unquoted(text: &str, needle: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, _) if text[i..].starts_with(needle) => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TemplateContext {
        TemplateContext {
            url: "https://auth.example.com/verify?ticket=abc&x=1".into(),
            user: TemplateUser {
                user_id: "auth0|1".into(),
                email: "ann@example.com".into(),
                name: Some("<script>alert('x')</script>".into()),
                user_metadata: serde_json::json!({"<b>k</b>": "\"v\"", "list": ["<i>"]}),
                ..TemplateUser::default()
            },
            application: TemplateApplication {
                name: "Tom & Jerry's <App>".into(),
                client_id: "c1".into(),
            },
            tenant: "t".into(),
            friendly_name: "T".into(),
        }
    }

    fn custom(subject: &str, body: &str) -> EmailTemplate {
        EmailTemplate {
            subject: subject.into(),
            body: body.into(),
            ..default_template(VERIFY_EMAIL).unwrap()
        }
    }

    #[test]
    fn defaults_exist_for_the_three_names_only() {
        let verify = default_template(VERIFY_EMAIL).unwrap();
        assert!(verify.enabled);
        assert_eq!(verify.url_lifetime_in_seconds, Some(432_000));
        assert_eq!(verify.subject, "Verify your email");
        let reset = default_template(RESET_EMAIL).unwrap();
        assert!(reset.enabled);
        assert_eq!(reset.url_lifetime_in_seconds, Some(86_400));
        assert_eq!(reset.subject, "Reset your password");
        let welcome = default_template(WELCOME_EMAIL).unwrap();
        assert!(!welcome.enabled);
        for t in [&verify, &reset, &welcome] {
            assert_eq!(t.syntax, "liquid");
            assert_eq!(t.from, "");
            check(t).unwrap();
        }
        assert!(default_template("blocked_account").is_none());
        assert!(default_template("").is_none());
    }

    #[test]
    fn defaults_render_with_a_sample_context() {
        let context = sample();
        for name in NAMES {
            let rendered = render(&default_template(name).unwrap(), &context).unwrap();
            assert!(rendered.html.contains("Hello ann@example.com,"), "{name}");
            assert!(
                rendered.html.contains("Tom &amp; Jerry&#39;s &lt;App&gt;") || name == RESET_EMAIL,
                "{name}"
            );
            assert!(!rendered.html.contains("{{"), "{name}");
            if name == WELCOME_EMAIL {
                assert_eq!(rendered.subject, "Welcome to Tom & Jerry's <App>");
            } else {
                assert!(
                    rendered
                        .html
                        .contains(r#"href="https://auth.example.com/verify?ticket=abc&amp;x=1""#),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn values_are_escaped_in_the_body_not_the_subject() {
        let t = custom(
            "Hi {{ user.name }}",
            "<p>{{ user.name }}</p><p>{{ user.name | upcase }}</p>\
             {% for pair in user.user_metadata %}[{{ pair[0] }}={{ pair[1] }}]{% endfor %}\
             {{ user.user_metadata.list[0] }}",
        );
        let rendered = render(&t, &sample()).unwrap();
        assert_eq!(rendered.subject, "Hi <script>alert('x')</script>");
        assert!(!rendered.html.contains("<script"), "{}", rendered.html);
        assert!(!rendered.html.contains("<SCRIPT"), "{}", rendered.html);
        assert!(
            !rendered.html.contains("<b>") && !rendered.html.contains("<i>"),
            "{}",
            rendered.html
        );
        assert!(rendered
            .html
            .contains("<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>"));
        assert!(
            rendered
                .html
                .contains("[&lt;b&gt;k&lt;/b&gt;=&quot;v&quot;]"),
            "{}",
            rendered.html
        );
        // The template's own markup is kept.
        assert!(rendered.html.starts_with("<p>"));
    }

    #[test]
    fn broken_templates_are_refused() {
        for (subject, body, want) in [
            ("ok", "{% if %}", "body:"),
            ("ok", "{{ user.email ", "body:"),
            ("ok", "{% for x in y %}no end", "body:"),
            ("ok", "{% nosuchtag %}", "body:"),
            ("ok", "{{ url | nosuchfilter }}", "body:"),
            ("ok", "{% include 'other' %}", "body:"),
            ("ok", "{% render '/etc/passwd' %}", "body:"),
            ("{% if %}", "ok", "subject:"),
            ("ok", "{% for i in (1..1000000000) %}x{% endfor %}", "more than 1000 steps"),
            ("ok", "{% for i in (1..user.user_metadata.n) %}x{% endfor %}", "whole-number bounds"),
            ("ok", "{%- tablerow i in (0..5000) -%}x{% endtablerow %}", "more than 1000 steps"),
            (
                "ok",
                "{% for a in (1..9) %}{% for b in (1..9) %}{% for c in (1..9) %}{% endfor %}{% endfor %}{% endfor %}",
                "nest more than 2",
            ),
        ] {
            let err = check(&custom(subject, body)).expect_err(body).to_string();
            assert!(err.contains(want), "{body}: {err}");
        }
        let ok = "{% raw %}{% for i in (1..99999) %}{% endraw %}{% for i in (1..10) %}{{ i }}{% endfor %}\
                  {% assign s = \"%}{% for\" %}{{ \"{% for i in (1..99999) %}\" }}";
        check(&custom("ok", ok)).unwrap();
    }

    #[test]
    fn sizes_are_bounded() {
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        assert!(check(&custom("ok", &big))
            .unwrap_err()
            .to_string()
            .contains("larger than 100 KB"));
        assert!(check(&custom(&big, "ok")).is_err());
        // Within the source limit, a render that grows past 1 MB stops with an error.
        let body = format!(
            "{{% for a in (1..1000) %}}{{% for b in (1..1000) %}}{}{{% endfor %}}{{% endfor %}}",
            "y".repeat(10)
        );
        let t = custom("ok", &body);
        check(&t).unwrap();
        let err = render(&t, &sample()).unwrap_err().to_string();
        assert!(err.contains("renders larger than 1 MB"), "{err}");
    }

    #[test]
    fn missing_variables_render_empty_as_in_auth0() {
        let t = custom(
            "Hi {{ user.user_metadata.title }}{{ missing }}",
            "[{{ user.user_metadata.plan }}][{{ user.nickname }}][{{ nothing.here | upcase }}]\
             {% if user.app_metadata.vip %}vip{% else %}regular{% endif %}\
             {% if user.user_metadata.lang == 'fr' %}fr{% endif %}[{{ user.email.size }}]\
             [{{ 'user.fake' }}]",
        );
        let rendered = render(&t, &sample()).unwrap();
        assert_eq!(rendered.subject, "Hi ");
        assert_eq!(rendered.html, "[][][]regular[15][user.fake]");
        // Present values are untouched.
        let t = custom(
            "s",
            "{{ user.user_metadata.list[0] }}|{{ application.client_id }}",
        );
        assert_eq!(render(&t, &sample()).unwrap().html, "&lt;i&gt;|c1");
    }

    /// A few lines that would grow a value far past any memory: each is an
    /// error before it gets big, and the render stays quick.
    #[test]
    fn templates_cannot_grow_values_without_bound() {
        let doubling_assign = format!(
            "{{% assign s = \"xxxxxxxxxx\" %}}{}{{{{ s | size }}}}",
            "{% assign s = s | append: s %}".repeat(40)
        );
        let doubling_capture = format!(
            "{{% assign s = \"xxxxxxxxxx\" %}}{}{{{{ s | size }}}}",
            "{% capture s %}{{ s }}{{ s }}{% endcapture %}".repeat(40)
        );
        let big = "a".repeat(40_000);
        let one_replace = format!("{{{{ \"{big}\" | replace: \"a\", \"{big}\" | size }}}}");
        let one_join = format!("{{{{ \"{big}\" | split: \"\" | join: \"{big}\" | size }}}}");
        let escapes = format!(
            "{{% assign s = \"&&&&&&&&&&\" %}}{}{{{{ s | size }}}}",
            "{% assign s = s | escape | append: s %}".repeat(40)
        );
        let busy = format!(
            "{{% assign s = \"{}\" %}}{{% for a in (1..999) %}}{{% for b in (1..999) %}}\
             {{% assign t = s | append: \"x\" %}}{{% endfor %}}{{% endfor %}}",
            "y".repeat(100_000)
        );
        for body in [
            doubling_assign,
            doubling_capture,
            one_replace,
            one_join,
            escapes,
            busy,
        ] {
            let t = custom("ok", &body);
            check(&t).unwrap();
            let started = std::time::Instant::now();
            let err = render(&t, &sample()).expect_err(&body[..60]).to_string();
            assert!(
                err.contains("larger than")
                    || err.contains("in all")
                    || err.contains("longer than"),
                "{err}"
            );
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
        }
        // Ordinary use of the same tags and filters still works.
        let t = custom(
            "ok",
            "{% capture c %}{{ user.email | upcase }}{% endcapture %}{{ c }}|\
             {{ \"a-b\" | replace: \"-\", \"+\" }}|{{ \"a,b\" | split: \",\" | join: \" \" }}",
        );
        assert_eq!(
            render(&t, &sample()).unwrap().html,
            "ANN@EXAMPLE.COM|a+b|a b"
        );
    }

    /// liquid's arithmetic panics on overflow (`i64::MIN / -1` even in
    /// release builds); a panic in the mail worker would end it for good.
    #[test]
    fn filters_that_panic_are_errors() {
        for body in [
            "{{ -9223372036854775808 | divided_by: -1 }}",
            "{{ -9223372036854775808 | modulo: -1 }}",
            "{{ 9223372036854775807 | plus: 1 }}",
            "{{ 9223372036854775807 | times: 2 }}",
            "{% for i in (1..2) %}{{ -9223372036854775808 | divided_by: -1 }}{% endfor %}",
        ] {
            let err = render(&custom("ok", body), &sample())
                .expect_err(body)
                .to_string();
            assert!(err.contains("failed"), "{body}: {err}");
        }
    }

    #[test]
    fn render_errors_are_errors_not_panics() {
        let t = custom("ok", "{{ 1 | divided_by: 0 }}");
        let _ = render(&t, &sample()).unwrap_err();
    }
}
