//! The scenarios: what each connection sends ([`Conversation`]s) and what a
//! good answer looks like ([`Expect`]). The same requests go to Gatehouse and
//! to a target; only the client, the audience parameter and the supply of
//! codes and refresh tokens differ.

use super::load::Conversation;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Every scenario, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Discovery,
    Jwks,
    ClientCredentialsEs256,
    ClientCredentialsRs256,
    RefreshToken,
    AuthorizationCode,
    /// The password grant: bounded by argon2id (Gatehouse only).
    Login,
    /// client_credentials RS256 through one small Action (Gatehouse only).
    ClientCredentialsAction,
}

impl Scenario {
    /// What runs against a target (a peer has no Actions and no password grant).
    pub const SHARED: [Scenario; 6] = [
        Scenario::Discovery,
        Scenario::Jwks,
        Scenario::ClientCredentialsEs256,
        Scenario::ClientCredentialsRs256,
        Scenario::RefreshToken,
        Scenario::AuthorizationCode,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Discovery => "discovery",
            Scenario::Jwks => "jwks",
            Scenario::ClientCredentialsEs256 => "client_credentials_es256",
            Scenario::ClientCredentialsRs256 => "client_credentials_rs256",
            Scenario::RefreshToken => "refresh_token",
            Scenario::AuthorizationCode => "authorization_code",
            Scenario::Login => "login",
            Scenario::ClientCredentialsAction => "client_credentials_action",
        }
    }

    /// What a good answer carries.
    pub fn expect(self) -> Expect {
        const TOKEN: &[&str] = &["access_token", "token_type", "expires_in"];
        const USER_TOKENS: &[&str] = &["access_token", "id_token", "refresh_token"];
        match self {
            Scenario::Discovery => Expect::fields(&["issuer", "token_endpoint", "jwks_uri"]),
            Scenario::Jwks => Expect::fields(&["keys"]),
            Scenario::ClientCredentialsEs256 => Expect::token(TOKEN, "ES256"),
            Scenario::ClientCredentialsRs256 => Expect::token(TOKEN, "RS256"),
            Scenario::RefreshToken => Expect::token(&["access_token", "refresh_token"], "ES256"),
            Scenario::AuthorizationCode => Expect::token(USER_TOKENS, "ES256"),
            Scenario::Login => Expect::fields(&["access_token"]),
            Scenario::ClientCredentialsAction => Expect {
                claim: Some(super::ACTION_CLAIM),
                ..Expect::token(TOKEN, "RS256")
            },
        }
    }
}

/// What a good answer is: 2xx with a JSON body carrying `fields`; a
/// connection's first answer also has an access token signed with `alg`
/// (and carrying `claim`). Later answers are checked for the fields only,
/// so the generator spends its CPU on load, not on decoding.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    pub fields: &'static [&'static str],
    pub alg: Option<&'static str>,
    pub claim: Option<&'static str>,
}

impl Expect {
    const fn fields(fields: &'static [&'static str]) -> Self {
        Self {
            fields,
            alg: None,
            claim: None,
        }
    }

    const fn token(fields: &'static [&'static str], alg: &'static str) -> Self {
        Self {
            fields,
            alg: Some(alg),
            claim: None,
        }
    }

    pub fn check(&self, status: u16, body: &[u8], first: bool) -> Result<(), String> {
        if !(200..300).contains(&status) {
            return Err(format!("status {status}: {}", excerpt(body)));
        }
        if let Some(missing) = self.fields.iter().find(|f| json_value(body, f).is_none()) {
            return Err(format!("no {missing} in {}", excerpt(body)));
        }
        if first && (self.alg.is_some() || self.claim.is_some()) {
            self.check_access_token(body)?;
        }
        Ok(())
    }

    fn check_access_token(&self, body: &[u8]) -> Result<(), String> {
        let token = json_string(body, "access_token").ok_or("no access_token string")?;
        let (header, claims) = gatehouse_core::jose::decode_unverified(token)
            .map_err(|e| format!("access token is not a JWT: {e}"))?;
        if let Some(alg) = self.alg.filter(|alg| *alg != header.alg) {
            return Err(format!("access token signed {}, not {alg}", header.alg));
        }
        match self.claim {
            Some(claim) if claims.get(claim).is_none() => {
                Err(format!("access token without the claim {claim}"))
            }
            _ => Ok(()),
        }
    }
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
}

/// The bytes after `"name":` in a JSON object (whitespace allowed around the colon).
fn json_value<'a>(body: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let key = format!("\"{name}\"");
    let mut from = 0;
    while let Some(at) = find(&body[from..], key.as_bytes()) {
        let rest = &body[from + at + key.len()..];
        let rest = trim_start(rest);
        if let Some(value) = rest.strip_prefix(b":") {
            return Some(trim_start(value));
        }
        from += at + key.len();
    }
    None
}

/// A string member's value (no escapes: tokens and codes have none).
pub fn json_string<'a>(body: &'a [u8], name: &str) -> Option<&'a str> {
    let value = json_value(body, name)?.strip_prefix(b"\"")?;
    let end = value.iter().position(|&b| b == b'"' || b == b'\\')?;
    (value[end] == b'"')
        .then(|| std::str::from_utf8(&value[..end]).ok())
        .flatten()
}

fn trim_start(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &bytes[skip..]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The same request on every turn.
pub struct Fixed {
    request: Vec<u8>,
    expect: Expect,
    answered: bool,
}

impl Fixed {
    pub fn new(request: Vec<u8>, expect: Expect) -> Self {
        Self {
            request,
            expect,
            answered: false,
        }
    }
}

impl Conversation for Fixed {
    fn next_request(&mut self) -> Option<&[u8]> {
        Some(&self.request)
    }

    fn check(&mut self, status: u16, body: &[u8]) -> Result<(), String> {
        let first = !std::mem::replace(&mut self.answered, true);
        self.expect.check(status, body, first)
    }
}

/// Items shared by all connections of a window, each used once.
pub struct Supply<T> {
    items: Vec<T>,
    next: AtomicUsize,
}

impl<T> Supply<T> {
    pub fn new(items: Vec<T>) -> Arc<Self> {
        Arc::new(Self {
            items,
            next: AtomicUsize::new(0),
        })
    }

    pub fn take(&self) -> Option<&T> {
        self.items.get(self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// One pre-built request per turn, each from a shared [`Supply`] (codes).
pub struct Supplied {
    supply: Arc<Supply<Vec<u8>>>,
    expect: Expect,
    answered: bool,
}

impl Supplied {
    pub fn new(supply: Arc<Supply<Vec<u8>>>, expect: Expect) -> Self {
        Self {
            supply,
            expect,
            answered: false,
        }
    }
}

impl Conversation for Supplied {
    fn next_request(&mut self) -> Option<&[u8]> {
        self.supply.take().map(Vec::as_slice)
    }

    fn check(&mut self, status: u16, body: &[u8]) -> Result<(), String> {
        let first = !std::mem::replace(&mut self.answered, true);
        self.expect.check(status, body, first)
    }
}

/// Turns a form into request bytes.
pub type RequestBuilder = Box<dyn Fn(&str) -> Vec<u8> + Send>;

/// Refresh-token rotation chained on one connection: each answer's
/// `refresh_token` is the next request's. A broken chain (an error) starts
/// again from a fresh token of the shared supply.
pub struct Chained {
    /// The form up to the token's value, and after it.
    form: (String, String),
    build: RequestBuilder,
    supply: Arc<Supply<String>>,
    token: Option<String>,
    request: Vec<u8>,
    expect: Expect,
    answered: bool,
}

impl Chained {
    pub fn new(
        supply: Arc<Supply<String>>,
        form: (String, String),
        build: RequestBuilder,
        expect: Expect,
    ) -> Self {
        Self {
            form,
            build,
            supply,
            token: None,
            request: Vec::new(),
            expect,
            answered: false,
        }
    }
}

impl Conversation for Chained {
    fn next_request(&mut self) -> Option<&[u8]> {
        if self.token.is_none() {
            self.token = Some(self.supply.take()?.clone());
        }
        let token = encode(self.token.as_deref().unwrap_or_default());
        let form = format!("{}{token}{}", self.form.0, self.form.1);
        self.request = (self.build)(&form);
        Some(&self.request)
    }

    fn check(&mut self, status: u16, body: &[u8]) -> Result<(), String> {
        let first = !std::mem::replace(&mut self.answered, true);
        let verdict = self.expect.check(status, body, first);
        self.token = match verdict {
            Ok(()) => json_string(body, "refresh_token").map(str::to_string),
            Err(_) => None,
        };
        verdict
    }

    fn broken(&mut self) {
        self.token = None;
    }
}

/// `value` form-urlencoded.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_with_or_without_spaces() {
        let body = br#"{"access_token" : "a.b.c","refresh_token":"r1", "expires_in":86400}"#;
        assert_eq!(json_string(body, "access_token"), Some("a.b.c"));
        assert_eq!(json_string(body, "refresh_token"), Some("r1"));
        assert_eq!(json_value(body, "expires_in"), Some(&b"86400}"[..]));
        assert_eq!(json_string(body, "id_token"), None);
        // A key's name appearing as a value is not the key.
        assert_eq!(json_value(br#"{"a":"keys","b":1}"#, "keys"), None);
    }

    #[test]
    fn an_error_status_or_a_missing_field_fails() {
        let expect = Scenario::Discovery.expect();
        let body = br#"{"issuer":"x","token_endpoint":"y","jwks_uri":"z"}"#;
        assert!(expect.check(200, body, true).is_ok());
        assert!(expect.check(500, body, true).is_err());
        assert!(expect.check(200, br#"{"issuer":"x"}"#, true).is_err());
    }

    #[test]
    fn the_first_answer_is_checked_for_its_signing_algorithm() {
        let key = gatehouse_core::jose::KeyPair::generate(gatehouse_core::model::SigningAlg::ES256)
            .unwrap();
        let token =
            gatehouse_core::jose::sign_jwt(&key, "JWT", &serde_json::json!({"sub": "x"})).unwrap();
        let body = format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":1}}"#);
        let es256 = Scenario::ClientCredentialsEs256.expect();
        let rs256 = Scenario::ClientCredentialsRs256.expect();
        assert!(es256.check(200, body.as_bytes(), true).is_ok());
        assert!(rs256.check(200, body.as_bytes(), true).is_err());
        // Later answers are checked for their fields only.
        assert!(rs256.check(200, body.as_bytes(), false).is_ok());
    }

    #[test]
    fn a_chain_continues_with_each_answers_refresh_token() {
        let supply = Supply::new(vec!["r0".to_string(), "spare".to_string()]);
        let mut conversation = Chained::new(
            supply,
            (
                "grant_type=refresh_token&refresh_token=".into(),
                "&client_id=c".into(),
            ),
            Box::new(|form| form.as_bytes().to_vec()),
            Expect::fields(&["access_token", "refresh_token"]),
        );
        let first = conversation.next_request().unwrap().to_vec();
        assert_eq!(
            first,
            b"grant_type=refresh_token&refresh_token=r0&client_id=c"
        );
        conversation
            .check(200, br#"{"access_token":"a","refresh_token":"r1"}"#)
            .unwrap();
        let second = conversation.next_request().unwrap().to_vec();
        assert_eq!(
            second,
            b"grant_type=refresh_token&refresh_token=r1&client_id=c"
        );
        assert!(conversation.check(400, b"{}").is_err());
        let third = conversation.next_request().unwrap().to_vec();
        assert_eq!(
            third,
            b"grant_type=refresh_token&refresh_token=spare&client_id=c"
        );
        conversation.broken();
        assert!(conversation.next_request().is_none());
    }
}
