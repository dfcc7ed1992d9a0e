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
//!
//! `--simulate --client … [--user …] [--audience …] [--scope …]` runs the
//! grant decision itself ([`gatehouse_server::simulate`]) for a request that
//! was never made, and prints the would-be claims and the same lines.

use crate::tenant::LocalTenant;
use gatehouse_core::explain::{Explanation, Line, Tone};
use gatehouse_server::simulate::{Outcome, SimulateRequest, Simulation};
use serde_json::Value;
use std::io::{IsTerminal, Read};

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// An access or ID token (JWT or opaque), the jti of an access token, or a
    /// log id (the Gatehouse-Log-Id header); read from standard input when absent
    // An opaque token may start with '-' (base64url): still the input, not a flag.
    #[arg(allow_hyphen_values = true)]
    input: Option<String>,
    /// Print the decision trace exactly as stored with the log event (the
    /// whole explanation as JSON when there is no stored trace)
    #[arg(long)]
    json: bool,
    /// Ask the server at this URL over the Management API instead of opening
    /// the database; the token comes from GATEHOUSE_MANAGEMENT_TOKEN
    #[arg(long)]
    url: Option<String>,
    /// The public URL the server runs under now, when it differs from the
    /// one the tenant was created under (its tokens' `iss` follows it)
    #[arg(long, conflicts_with = "url")]
    public_url: Option<String>,
    #[command(flatten)]
    tenant: LocalTenant,
    #[command(flatten)]
    simulation: SimulationArgs,
}

/// `--simulate`: what a token request would get, without issuing anything.
#[derive(Debug, clap::Args)]
struct SimulationArgs {
    /// Run the grant decision for these inputs instead of explaining a token:
    /// nothing is issued and nothing is logged
    #[arg(long, conflicts_with = "input")]
    simulate: bool,
    /// The client_id asking (with --simulate)
    #[arg(long, requires = "simulate")]
    client: Option<String>,
    /// The user's email or user_id (with --simulate; none for client_credentials)
    #[arg(long, requires = "simulate")]
    user: Option<String>,
    /// The audience parameter (with --simulate); none when absent
    #[arg(long, requires = "simulate")]
    audience: Option<String>,
    /// The RFC 8707 resource parameter (with --simulate)
    #[arg(long, requires = "simulate")]
    resource: Option<String>,
    /// The requested scope, space-separated (with --simulate)
    #[arg(long, requires = "simulate")]
    scope: Option<String>,
    /// The grant type as on the wire (with --simulate) [default: authorization_code]
    #[arg(long, requires = "simulate")]
    grant: Option<String>,
}

impl SimulationArgs {
    fn request(&self) -> Result<SimulateRequest, String> {
        let client_id = self
            .client
            .clone()
            .ok_or("--simulate needs --client <client_id>")?;
        Ok(SimulateRequest {
            client_id,
            user: self.user.clone(),
            audience: self.audience.clone(),
            resource: self.resource.clone(),
            scope: self.scope.clone(),
            grant: self.grant.clone(),
        })
    }
}

/// The issuer of `--public-url`; `None` for the one the tenant was created under.
fn issuer(args: &ExplainArgs) -> Result<Option<String>, String> {
    args.public_url
        .as_deref()
        .map(crate::config::issuer_from_public_url)
        .transpose()
}

/// Where the management token for `--url` comes from (never a flag: flags
/// show in `ps` and shell history).
pub const MANAGEMENT_TOKEN_VARIABLE: &str = "GATEHOUSE_MANAGEMENT_TOKEN";

pub async fn run(args: ExplainArgs) -> Result<(), String> {
    if args.simulation.simulate {
        return run_simulation(&args).await;
    }
    let input = match &args.input {
        Some(input) => input.clone(),
        None => read_stdin()?,
    };
    let explanation = match &args.url {
        Some(url) => remote(url, &input).await?,
        None => {
            let state = args.tenant.open(issuer(&args)?).await?;
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

async fn run_simulation(args: &ExplainArgs) -> Result<(), String> {
    let request = args.simulation.request()?;
    let simulation: Simulation = match &args.url {
        Some(url) => {
            let body = serde_json::to_value(&request).map_err(|e| e.to_string())?;
            management_post(url, "x-gatehouse/simulate", &body).await?
        }
        None => {
            let state = args.tenant.open(issuer(args)?).await?;
            gatehouse_server::simulate::simulate(&state, &request)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    if args.json {
        let shown = serde_json::to_value(&simulation).unwrap_or(Value::Null);
        println!(
            "{}",
            serde_json::to_string_pretty(&shown).unwrap_or_default()
        );
    } else {
        print!("{}", render_simulation(&simulation, use_colour()));
    }
    Ok(())
}

/// A simulation as text: the verdict, the would-be claims, then the
/// decision's lines as `explain` prints them for a real token.
pub fn render_simulation(sim: &Simulation, colour: bool) -> String {
    let paint = Paint(colour);
    let who = match &sim.user {
        Some(user) => format!(
            " for {}",
            shown(user.email.as_deref().unwrap_or(&user.user_id))
        ),
        None => String::new(),
    };
    let mut out = format!(
        "{}\n",
        paint.bold(&format!(
            "Simulated {}{who} by {} ({}): nothing was issued or logged.",
            shown(&sim.grant),
            shown(&sim.client.name),
            shown(&sim.client.client_id)
        ))
    );
    match (&sim.outcome, &sim.error) {
        (Outcome::Refused, Some(error)) => out.push_str(&format!(
            "\n{} {}: {}\n",
            paint.tone(Tone::Refused, "Refused:"),
            shown(&error.error),
            shown(&error.error_description)
        )),
        _ => out.push_str(&format!(
            "\n{} scope \"{}\", expires_in {}{}{}\n",
            paint.tone(Tone::Ok, "Issued:"),
            shown(sim.scope.as_deref().unwrap_or("")),
            sim.expires_in.unwrap_or(0),
            if sim.refresh_token {
                ", with a refresh token"
            } else {
                ""
            },
            if sim.consent_required {
                ", once the user accepts the consent page"
            } else {
                ""
            }
        )),
    }
    if let Some(token) = &sim.access_token {
        match &token.claims {
            Some(claims) => out.push_str(&format!(
                "\n{}\n{}\n",
                paint.bold("Access token claims"),
                serde_json::to_string_pretty(claims).unwrap_or_default()
            )),
            None => out.push_str(&format!(
                "\n{} {}\n",
                paint.bold("Access token:"),
                shown(token.note.as_deref().unwrap_or("opaque"))
            )),
        }
    }
    if let Some(id_token) = &sim.id_token {
        out.push_str(&format!(
            "\n{}\n{}\n",
            paint.bold("ID token claims"),
            serde_json::to_string_pretty(&id_token.claims).unwrap_or_default()
        ));
    }
    if !sim.lines.is_empty() {
        out.push_str(&format!("\n{}\n", paint.bold("Why")));
        for line in &sim.lines {
            out.push_str(&render_line(&paint, line));
        }
    }
    out
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
            .map(shown)
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
    let mut out = format!("{}\n", paint.bold(&shown(&e.summary)));
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
                shown(&c.name),
                shown(&c.detail)
            ));
        }
    }
    if !e.mistakes.is_empty() {
        out.push_str(&format!("\n{}\n", paint.bold("Watch out")));
        for m in &e.mistakes {
            out.push_str(&format!(
                "  {}\n",
                paint.tone(Tone::Dropped, &shown(&m.message))
            ));
            if let Some(fix) = &m.fix {
                out.push_str(&format!("    fix: {}\n", shown(fix)));
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
        paint.tone(line.tone, &shown(&line.topic)),
        shown(&line.text)
    );
    if let Some(fix) = &line.fix {
        out.push_str(&format!("      fix: {}\n", shown(fix)));
    }
    out
}

/// Text from tokens, events and servers as a terminal may show it: a
/// control character (an escape sequence in a forged claim or a user's
/// name, a line break) is printed escaped, never interpreted.
fn shown(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::explain::{InputKind, Line};

    #[test]
    fn control_characters_from_tokens_are_printed_escaped() {
        let e = Explanation {
            input: InputKind::Jwt,
            summary: "sub \u{1b}]0;owned\u{7}".into(),
            checks: Vec::new(),
            mistakes: Vec::new(),
            lines: vec![Line {
                topic: "user".into(),
                tone: Tone::Info,
                text: "eve\u{1b}[2J\r\nfix: trust me".into(),
                fix: Some("\u{9b}31m".into()),
            }],
            event: None,
            trace: None,
            refusal: None,
        };
        let out = render(&e, false);
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(out.contains("eve\\u{1b}[2J\\r\\nfix: trust me"), "{out}");
        assert_eq!(out.lines().count(), 5, "{out}");
    }
}
