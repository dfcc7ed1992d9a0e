//! `gatehouse explain <TOKEN | jti | log_id>`: why a token looks as it does,
//! or why a request was refused, in words with the fix.
//!
//! Locally it opens the tenant's database and calls the server's own
//! [`gatehouse_server::explain`]; with `--url` it asks a running server over
//! the Management API (`POST /api/v2/x-gatehouse/explain`) with a management
//! token. Both give the same [`Explanation`], printed by [`render`]: colour
//! only on a terminal (and never with `NO_COLOR`), `--json` for the trace as
//! stored. Input that is no token, jti or log id of this tenant is a one-line
//! error and exit status 2.

use crate::tenant::LocalTenant;
use gatehouse_core::explain::{Explanation, Line, Tone};
use serde_json::Value;
use std::io::{IsTerminal, Read};

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// An access or ID token (JWT or opaque), the jti of an access token, or a
    /// log id (the Gatehouse-Log-Id header); read from standard input when absent
    input: Option<String>,
    /// Print the decision trace exactly as stored with the log event (the
    /// whole explanation as JSON when there is no stored trace)
    #[arg(long)]
    json: bool,
    /// Ask the server at this URL over the Management API instead of opening
    /// the database; the token comes from GATEHOUSE_MANAGEMENT_TOKEN
    #[arg(long)]
    url: Option<String>,
    #[command(flatten)]
    tenant: LocalTenant,
}

/// Where the management token for `--url` comes from (never a flag: flags
/// show in `ps` and shell history).
pub const MANAGEMENT_TOKEN_VARIABLE: &str = "GATEHOUSE_MANAGEMENT_TOKEN";

pub async fn run(args: ExplainArgs) -> Result<(), String> {
    let input = match &args.input {
        Some(input) => input.clone(),
        None => read_stdin()?,
    };
    let explanation = match &args.url {
        Some(url) => remote(url, &input).await?,
        None => {
            let state = args.tenant.open(None).await?;
            local(&state, &input).await?
        }
    };
    if args.json {
        let shown = explanation
            .trace
            .clone()
            .unwrap_or_else(|| serde_json::to_value(&explanation).unwrap_or(Value::Null));
        println!(
            "{}",
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        );
    } else {
        print!("{}", render(&explanation, use_colour()));
    }
    Ok(())
}

/// The explanation from the server's own function, on this process's state.
pub async fn local(state: &gatehouse_server::AppState, input: &str) -> Result<Explanation, String> {
    use gatehouse_server::explain::ExplainError;
    gatehouse_server::explain::explain(state, input)
        .await
        .map_err(|e| match e {
            ExplainError::BadInput(m) | ExplainError::NotFound(m) => m,
            ExplainError::Internal(e) => format!("{e:?}"),
        })
}

/// The explanation from a running server's Management API.
async fn remote(url: &str, input: &str) -> Result<Explanation, String> {
    let body = serde_json::json!({ "input": input });
    management_post(url, "x-gatehouse/explain", &body).await
}

/// POSTs a JSON body to `<url>/api/v2/<path>` with the management token and
/// reads the reply; a refusal becomes its `message`, in one line.
pub async fn management_post<T: serde::de::DeserializeOwned>(
    url: &str,
    path: &str,
    body: &Value,
) -> Result<T, String> {
    let token = std::env::var(MANAGEMENT_TOKEN_VARIABLE)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            format!(
                "--url needs a Management API token with read:logs in {MANAGEMENT_TOKEN_VARIABLE} \
                 (`gatehouse token --management` prints one)"
            )
        })?;
    let endpoint = format!("{}/api/v2/{path}", url.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&endpoint)
        .bearer_auth(token.trim())
        .json(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach {endpoint}: {e}"))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| format!("reading the answer of {endpoint}: {e}"))?;
    if !status.is_success() {
        let reply: Value = serde_json::from_str(&text).unwrap_or_default();
        let message = reply["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("{status}"));
        return Err(format!(
            "{endpoint} answered {}: {message}",
            status.as_u16()
        ));
    }
    serde_json::from_str(&text).map_err(|e| format!("{endpoint} answered something else: {e}"))
}

fn read_stdin() -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        return Err("paste a token, jti or log id: `gatehouse explain <TOKEN>`".into());
    }
    let mut input = String::new();
    std::io::stdin()
        .take(1 << 20)
        .read_to_string(&mut input)
        .map_err(|e| format!("reading standard input: {e}"))?;
    Ok(input)
}

/// Colour only for a person at a terminal who did not ask for none.
pub fn use_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// ANSI styles, or nothing.
struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.wrap("1", text)
    }
    fn tone(&self, tone: Tone, text: &str) -> String {
        match tone {
            Tone::Ok => self.wrap("32", text),
            Tone::Dropped => self.wrap("33", text),
            Tone::Refused => self.wrap("31", text),
            Tone::Info => text.to_string(),
        }
    }
}

/// The explanation as text: the summary, the checks, the mistakes, then the
/// decision line by line with each fix under its line.
pub fn render(e: &Explanation, colour: bool) -> String {
    let paint = Paint(colour);
    let mut out = format!("{}\n", paint.bold(&e.summary));
    if !e.checks.is_empty() {
        out.push_str(&format!("\n{}\n", paint.bold("Checks")));
        for c in &e.checks {
            let (mark, tone) = if c.holds {
                ("ok  ", Tone::Ok)
            } else {
                ("FAIL", Tone::Refused)
            };
            out.push_str(&format!(
                "  {} {:<9} {}\n",
                paint.tone(tone, mark),
                c.name,
                c.detail
            ));
        }
    }
    if !e.mistakes.is_empty() {
        out.push_str(&format!("\n{}\n", paint.bold("Watch out")));
        for m in &e.mistakes {
            out.push_str(&format!("  {}\n", paint.tone(Tone::Dropped, &m.message)));
            if let Some(fix) = &m.fix {
                out.push_str(&format!("    fix: {fix}\n"));
            }
        }
    }
    if !e.lines.is_empty() {
        out.push_str(&format!("\n{}\n", paint.bold("Why")));
        for line in &e.lines {
            out.push_str(&render_line(&paint, line));
        }
    }
    out
}

fn render_line(paint: &Paint, line: &Line) -> String {
    let mark = match line.tone {
        Tone::Ok => "+",
        Tone::Dropped => "-",
        Tone::Refused => "x",
        Tone::Info => " ",
    };
    let mut out = format!(
        "  {} {}: {}\n",
        paint.tone(line.tone, mark),
        paint.tone(line.tone, &line.topic),
        line.text
    );
    if let Some(fix) = &line.fix {
        out.push_str(&format!("      fix: {fix}\n"));
    }
    out
}
