//! The quickstart panel of an application: configuration for the SDKs that
//! Auth0 users bring, filled with this tenant's issuer, the application's
//! client id and the chosen API's audience, so it can be pasted as it is.
//!
//! Auth0's SDKs take a `domain`, not an issuer. auth0-spa-js (and
//! auth0-angular, which wraps it) prefixes `https://` to a domain unless it
//! already starts with `http://` or `https://`, and then expects the issuer
//! `<domain URL>/`. So an https issuer becomes a bare host (and path), and an
//! http issuer keeps its scheme: [`sdk_domain`].

use gatehouse_core::model::AppType;
use serde::Serialize;

/// What the snippets are filled with.
pub struct Target<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub app_type: AppType,
    /// The API the access token is for; `None` when the tenant has none.
    pub audience: Option<&'a str>,
    /// The API's scopes, requested in the samples that name scopes.
    pub scopes: &'a [String],
    /// The client secret, only right after it was created or rotated.
    pub secret: Option<&'a str>,
}

/// One sample: a title, what it is for, the code, and a caution.
#[derive(Debug, Serialize)]
pub struct Snippet {
    pub id: &'static str,
    pub title: &'static str,
    pub intro: String,
    pub code: String,
    pub note: Option<String>,
}

/// The `domain` to give auth0-spa-js, auth0-angular or auth0-python.
pub fn sdk_domain(issuer: &str) -> String {
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    base.strip_prefix("https://").unwrap_or(base).to_string()
}

/// A JavaScript single-quoted string literal.
pub fn js(value: &str) -> String {
    let mut out = String::from("'");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A POSIX shell single-quoted word.
pub fn sh(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// The samples for the application's type.
pub fn snippets(t: &Target<'_>) -> Vec<Snippet> {
    match t.app_type {
        AppType::Spa => vec![spa_js(t), auth0_angular(t), angular_oauth2_oidc(t)],
        AppType::Native => vec![authorize_url(t), code_exchange(t)],
        AppType::RegularWeb => vec![authorize_url(t), code_exchange(t)],
        AppType::NonInteractive => vec![client_credentials(t)],
    }
}

/// Shown under the user-facing samples: asking is not getting (seed 000).
const SCOPES_ARE_ASKED_NOT_GRANTED: &str =
    "Asking for a scope does not grant it. With RBAC on the API, a user gets the scopes that \
     their roles or direct permissions allow: assign them on the Users or Roles pages.";

fn no_audience_note() -> String {
    "No API yet: without an audience the access token is opaque and only good for /userinfo. \
     Create an API, then come back here."
        .to_string()
}

fn user_scope(t: &Target<'_>, base: &str) -> String {
    std::iter::once(base.to_string())
        .chain(t.scopes.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn http_domain_note(t: &Target<'_>) -> Option<String> {
    t.issuer.starts_with("http://").then(|| {
        format!(
            "Your issuer is plain http, so the domain keeps its scheme ({}): the SDK adds \
             https:// only to a domain without one. The app must run on https or on localhost, \
             where browsers allow the SDK's crypto.",
            sdk_domain(t.issuer)
        )
    })
}

fn notes(parts: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    let all: Vec<String> = parts.into_iter().flatten().collect();
    (!all.is_empty()).then(|| all.join(" "))
}

fn audience_line(t: &Target<'_>, indent: &str) -> String {
    t.audience
        .map(|a| format!("{indent}audience: {},\n", js(a)))
        .unwrap_or_default()
}

fn spa_js(t: &Target<'_>) -> Snippet {
    let code = format!(
        "import {{ createAuth0Client }} from '@auth0/auth0-spa-js';\n\n\
         const auth0 = await createAuth0Client({{\n  \
           domain: {domain},\n  \
           clientId: {client},\n  \
           authorizationParams: {{\n    \
             redirect_uri: window.location.origin,\n\
         {audience}    \
             scope: {scope},\n  \
           }},\n\
         }});\n\n\
         // Log in, then call your API with the access token:\n\
         // await auth0.loginWithRedirect();\n\
         // const token = await auth0.getTokenSilently();\n",
        domain = js(&sdk_domain(t.issuer)),
        client = js(t.client_id),
        audience = audience_line(t, "    "),
        scope = js(&user_scope(t, "openid profile email")),
    );
    Snippet {
        id: "spa-js",
        title: "auth0-spa-js",
        intro: "Add your app's address (window.location.origin) to Allowed Callback URLs, \
                Allowed Web Origins and Allowed Logout URLs on the Settings tab."
            .into(),
        code,
        note: notes([
            http_domain_note(t),
            t.audience.is_none().then(no_audience_note),
            Some(SCOPES_ARE_ASKED_NOT_GRANTED.into()),
        ]),
    }
}

fn auth0_angular(t: &Target<'_>) -> Snippet {
    let audience = t.audience.unwrap_or("YOUR_API_AUDIENCE");
    let code = format!(
        "// app.config.ts\n\
         import {{ ApplicationConfig }} from '@angular/core';\n\
         import {{ provideHttpClient, withInterceptors }} from '@angular/common/http';\n\
         import {{ provideAuth0, authHttpInterceptorFn }} from '@auth0/auth0-angular';\n\n\
         export const appConfig: ApplicationConfig = {{\n  \
           providers: [\n    \
             provideAuth0({{\n      \
               domain: {domain},\n      \
               clientId: {client},\n      \
               authorizationParams: {{\n        \
                 redirect_uri: window.location.origin,\n        \
                 audience: {audience},\n      \
               }},\n      \
               // Requests to these URLs get the access token.\n      \
               httpInterceptor: {{\n        \
                 allowedList: [\n          \
                   {{\n            \
                     uri: 'http://localhost:8000/api/*',\n            \
                     tokenOptions: {{ authorizationParams: {{ audience: {audience} }} }},\n          \
                   }},\n        \
                 ],\n      \
               }},\n    \
             }}),\n    \
             provideHttpClient(withInterceptors([authHttpInterceptorFn])),\n  \
           ],\n\
         }};\n",
        domain = js(&sdk_domain(t.issuer)),
        client = js(t.client_id),
        audience = js(audience),
    );
    Snippet {
        id: "auth0-angular",
        title: "auth0-angular",
        intro: "Replace http://localhost:8000/api/* with your API's URL. The interceptor only \
                attaches the token; it does not decide its scopes."
            .into(),
        code,
        note: notes([
            http_domain_note(t),
            t.audience.is_none().then(no_audience_note),
            Some(SCOPES_ARE_ASKED_NOT_GRANTED.into()),
        ]),
    }
}

fn angular_oauth2_oidc(t: &Target<'_>) -> Snippet {
    let https_line = if t.issuer.starts_with("http://") {
        "  // Your issuer is plain http: allow it (development only).\n  requireHttps: false,\n"
    } else {
        ""
    };
    let custom = t
        .audience
        .map(|a| {
            format!("  // Without an audience the access token is opaque.\n  customQueryParams: {{ audience: {} }},\n", js(a))
        })
        .unwrap_or_default();
    let code = format!(
        "import {{ AuthConfig }} from 'angular-oauth2-oidc';\n\n\
         export const authConfig: AuthConfig = {{\n  \
           issuer: {issuer},\n  \
           clientId: {client},\n  \
           redirectUri: window.location.origin + '/',\n  \
           // Authorization code flow; PKCE is on by default.\n  \
           responseType: 'code',\n  \
           scope: {scope},\n\
         {custom}{https_line}\
         }};\n\n\
         // this.oauthService.configure(authConfig);\n\
         // await this.oauthService.loadDiscoveryDocumentAndLogin();\n",
        issuer = js(t.issuer),
        client = js(t.client_id),
        scope = js(&user_scope(t, "openid profile email offline_access")),
    );
    Snippet {
        id: "angular-oauth2-oidc",
        title: "angular-oauth2-oidc",
        intro: "The issuer ends with a slash, exactly as in the discovery document. Add \
                window.location.origin + '/' to Allowed Callback URLs."
            .into(),
        code,
        note: notes([
            t.audience.is_none().then(no_audience_note),
            Some(SCOPES_ARE_ASKED_NOT_GRANTED.into()),
        ]),
    }
}

fn authorize_url(t: &Target<'_>) -> Snippet {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", t.client_id)
        .append_pair("redirect_uri", "YOUR_CALLBACK_URL")
        .append_pair(
            "scope",
            &user_scope(t, "openid profile email offline_access"),
        );
    if let Some(audience) = t.audience {
        query.append_pair("audience", audience);
    }
    query
        .append_pair("code_challenge", "YOUR_CODE_CHALLENGE")
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "YOUR_STATE");
    Snippet {
        id: "authorize",
        title: "Log in: the authorization request",
        intro: "Send the browser here. Any OpenID Connect library builds this from the \
                discovery document; the audience parameter is what makes the access token a JWT \
                for your API."
            .into(),
        code: format!("{}authorize?{}\n", t.issuer, query.finish()),
        note: notes([
            t.audience.is_none().then(no_audience_note),
            Some(SCOPES_ARE_ASKED_NOT_GRANTED.into()),
        ]),
    }
}

fn code_exchange(t: &Target<'_>) -> Snippet {
    let secret = if t.app_type == AppType::Native {
        String::new()
    } else {
        format!(
            "  --data-urlencode client_secret={} \\\n",
            sh(t.secret.unwrap_or("YOUR_CLIENT_SECRET"))
        )
    };
    let code = format!(
        "curl --request POST {url} \\\n  \
           --header 'content-type: application/x-www-form-urlencoded' \\\n  \
           --data grant_type=authorization_code \\\n  \
           --data-urlencode client_id={client} \\\n\
         {secret}  \
           --data-urlencode code=THE_CODE \\\n  \
           --data-urlencode code_verifier=YOUR_CODE_VERIFIER \\\n  \
           --data-urlencode redirect_uri=YOUR_CALLBACK_URL\n",
        url = sh(&format!("{}oauth/token", t.issuer)),
        client = sh(t.client_id),
    );
    Snippet {
        id: "code-exchange",
        title: "Then: exchange the code for tokens",
        intro: "Your callback receives ?code=…; exchange it at the token endpoint.".into(),
        code,
        note: None,
    }
}

fn client_credentials(t: &Target<'_>) -> Snippet {
    let audience = t.audience.unwrap_or("YOUR_API_AUDIENCE");
    let code = format!(
        "curl --request POST {url} \\\n  \
           --header 'content-type: application/x-www-form-urlencoded' \\\n  \
           --data grant_type=client_credentials \\\n  \
           --data-urlencode client_id={client} \\\n  \
           --data-urlencode client_secret={secret} \\\n  \
           --data-urlencode audience={audience}\n",
        url = sh(&format!("{}oauth/token", t.issuer)),
        client = sh(t.client_id),
        secret = sh(t.secret.unwrap_or("YOUR_CLIENT_SECRET")),
        audience = sh(audience),
    );
    Snippet {
        id: "client-credentials",
        title: "Get a token with client credentials",
        intro: "The token carries the scopes this application was granted on the API (the APIs \
                tab)."
            .into(),
        code,
        note: notes([
            t.audience.is_none().then(no_audience_note),
            t.secret
                .is_none()
                .then(|| "Replace YOUR_CLIENT_SECRET with the secret shown when the application was created or its secret rotated.".to_string()),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(issuer: &'a str, app_type: AppType, scopes: &'a [String]) -> Target<'a> {
        Target {
            issuer,
            client_id: "abc123",
            app_type,
            audience: Some("https://api.example.com"),
            scopes,
            secret: None,
        }
    }

    #[test]
    fn the_sdk_domain_keeps_http_and_drops_https() {
        assert_eq!(sdk_domain("https://auth.example.com/"), "auth.example.com");
        assert_eq!(
            sdk_domain("https://example.com/tenant/"),
            "example.com/tenant"
        );
        assert_eq!(
            sdk_domain("http://127.0.0.1:3000/"),
            "http://127.0.0.1:3000"
        );
    }

    #[test]
    fn literals_are_escaped() {
        assert_eq!(js("it's \\ ok"), "'it\\'s \\\\ ok'");
        assert_eq!(sh("it's"), "'it'\\''s'");
    }

    #[test]
    fn spa_samples_carry_the_domain_client_and_audience() {
        let scopes = vec!["read:measurements".to_string()];
        let t = target("http://127.0.0.1:3000/", AppType::Spa, &scopes);
        let all = snippets(&t);
        let ids: Vec<_> = all.iter().map(|s| s.id).collect();
        assert_eq!(ids, ["spa-js", "auth0-angular", "angular-oauth2-oidc"]);
        assert!(all[0].code.contains("domain: 'http://127.0.0.1:3000',"));
        assert!(all[0].code.contains("audience: 'https://api.example.com',"));
        assert!(all[0]
            .code
            .contains("scope: 'openid profile email read:measurements',"));
        assert!(all[1].code.contains("authHttpInterceptorFn"));
        assert!(all[1].code.contains(
            "tokenOptions: { authorizationParams: { audience: 'https://api.example.com' } }"
        ));
        assert!(all[2]
            .code
            .contains("customQueryParams: { audience: 'https://api.example.com' }"));
        assert!(all[2].code.contains("issuer: 'http://127.0.0.1:3000/',"));
        assert!(all[2].code.contains("requireHttps: false"));
        let https = target("https://auth.example.com/", AppType::Spa, &scopes);
        let all = snippets(&https);
        assert!(all[0].code.contains("domain: 'auth.example.com',"));
        assert!(!all[2].code.contains("requireHttps"));
        assert!(all[0]
            .note
            .as_deref()
            .is_some_and(|n| !n.contains("plain http")));
    }

    #[test]
    fn machine_to_machine_gets_a_client_credentials_curl() {
        let mut t = target("https://auth.example.com/", AppType::NonInteractive, &[]);
        let curl = &snippets(&t)[0].code;
        assert!(curl.contains("'https://auth.example.com/oauth/token'"));
        assert!(curl.contains("client_secret='YOUR_CLIENT_SECRET'"));
        assert!(curl.contains("audience='https://api.example.com'"));
        t.secret = Some("s3cret");
        assert!(snippets(&t)[0].code.contains("client_secret='s3cret'"));
    }

    #[test]
    fn without_an_api_the_samples_say_so() {
        let mut t = target("https://auth.example.com/", AppType::Spa, &[]);
        t.audience = None;
        let all = snippets(&t);
        assert!(!all[0].code.contains("audience"));
        assert!(all[0].note.as_deref().unwrap().contains("No API yet"));
        let web = Target {
            app_type: AppType::RegularWeb,
            ..t
        };
        let all = snippets(&web);
        assert!(all[0]
            .code
            .starts_with("https://auth.example.com/authorize?"));
        assert!(all[1].code.contains("client_secret"));
    }
}
