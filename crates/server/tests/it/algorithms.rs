//! Per-API token formats: signing algorithms (RS256, PS256, ES256, EdDSA,
//! HS256), the RFC 9068 dialect, and lifetimes from the API and client.

use crate::fixtures::{seed, PASSWORD};
use crate::support::TestServer;
use gatehouse_core::model::*;
use jsonwebtoken::{decode, decode_header, jwk::Jwk, Algorithm, DecodingKey, Validation};
use serde_json::Value;

const SECRET: &str = "alg-client-secret-0123456789-0123456789";

/// An API with `alg` and `dialect`, and a machine client granted all of it.
async fn api_with(server: &TestServer, id: &str, alg: SigningAlg, dialect: TokenDialect) -> String {
    let now = server.state.now();
    let identifier = format!("https://{id}.example/");
    let mut api = ResourceServer::new(format!("rs_{id}"), id, identifier.clone());
    api.signing_alg = alg;
    api.token_dialect = dialect;
    api.token_lifetime = 600;
    api.scopes = vec![ScopeDefinition {
        value: "read".into(),
        description: String::new(),
    }];
    if alg == SigningAlg::HS256 {
        api.signing_secret = Some(format!("{id}-shared-secret-0123456789-0123456789"));
    }
    server
        .store
        .create_resource_server(&api, now)
        .await
        .unwrap();
    server
        .store
        .create_client_grant(
            &ClientGrant {
                id: format!("cgr_{id}"),
                client_id: Some("alg-m2m".into()),
                default_for: None,
                audience: identifier.clone(),
                scope: vec!["read".into()],
                subject_type: SubjectType::Client,
                allow_all_scopes: false,
            },
            now,
        )
        .await
        .unwrap();
    identifier
}

async fn machine_token(server: &TestServer, audience: &str) -> Value {
    let reply = server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "alg-m2m"),
                ("client_secret", SECRET),
                ("audience", audience),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

async fn decoding_key(server: &TestServer, kid: &str) -> DecodingKey {
    let (_, jwks) = server.get_json("/.well-known/jwks.json").await;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("kid published")
        .clone();
    DecodingKey::from_jwk(&serde_json::from_value::<Jwk>(jwk).unwrap()).unwrap()
}

#[tokio::test]
async fn each_api_signs_with_its_algorithm() {
    let server = TestServer::start().await;
    let client = Client::new("alg-m2m", "M2M", AppType::NonInteractive);
    let stored = gatehouse_store::StoredClient {
        client,
        secret_hash: Some(gatehouse_core::secret::hash_token(SECRET)),
    };
    server.store.create_client(&stored, 0).await.unwrap();
    for (id, alg, expected) in [
        ("rs", SigningAlg::RS256, Algorithm::RS256),
        ("ps", SigningAlg::PS256, Algorithm::PS256),
        ("es", SigningAlg::ES256, Algorithm::ES256),
        ("ed", SigningAlg::EdDSA, Algorithm::EdDSA),
    ] {
        let audience = api_with(&server, id, alg, TokenDialect::AccessToken).await;
        let body = machine_token(&server, &audience).await;
        assert_eq!(body["expires_in"], 600, "the API's token_lifetime");
        let jwt = body["access_token"].as_str().unwrap();
        let header = decode_header(jwt).unwrap();
        assert_eq!(header.alg, expected);
        let key = decoding_key(&server, header.kid.as_deref().unwrap()).await;
        let mut validation = Validation::new(expected);
        validation.set_audience(&[&audience]);
        let claims = decode::<Value>(jwt, &key, &validation).unwrap().claims;
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            600
        );
    }
    // HS256: the API's shared secret, no kid.
    let audience = api_with(&server, "hs", SigningAlg::HS256, TokenDialect::AccessToken).await;
    let jwt = machine_token(&server, &audience).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let header = decode_header(&jwt).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert!(header.kid.is_none());
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[&audience]);
    let key = DecodingKey::from_secret(b"hs-shared-secret-0123456789-0123456789");
    decode::<Value>(&jwt, &key, &validation).unwrap();
    server.stop().await;
}

#[tokio::test]
async fn rfc9068_dialect_and_single_audience_for_hs256() {
    let server = TestServer::start().await;
    let s = seed(server.store.as_ref()).await;
    let mut api = server
        .store
        .resource_server_by_identifier(crate::fixtures::API)
        .await
        .unwrap()
        .unwrap();
    api.token_dialect = TokenDialect::Rfc9068ProfileAuthz;
    server.store.update_resource_server(&api).await.unwrap();
    let login = |scope: &'static str| {
        let server = &server;
        let s = &s;
        async move {
            server
                .post_form(
                    "/oauth/token",
                    &[
                        ("grant_type", "password"),
                        ("client_id", &s.web_id),
                        ("client_secret", &s.web_secret),
                        ("username", "alice@example.com"),
                        ("password", PASSWORD),
                        ("audience", crate::fixtures::API),
                        ("scope", scope),
                    ],
                )
                .await
        }
    };
    let reply = login("openid read:measurements").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let jwt = reply.body["access_token"].as_str().unwrap();
    let header = decode_header(jwt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let key = decoding_key(&server, header.kid.as_deref().unwrap()).await;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[crate::fixtures::API]);
    let claims = decode::<Value>(jwt, &key, &validation).unwrap().claims;
    assert_eq!(claims["client_id"], s.web_id.as_str());
    assert!(claims.get("azp").is_none() && claims.get("gty").is_none());
    assert!(claims["jti"].is_string());
    assert_eq!(
        claims["permissions"],
        serde_json::json!(["read:measurements"])
    );

    // An HS256 API never gets the userinfo audience, even with openid.
    api.signing_alg = SigningAlg::HS256;
    api.signing_secret = Some("measurements-hs256-secret-0123456789".into());
    api.token_dialect = TokenDialect::AccessToken;
    server.store.update_resource_server(&api).await.unwrap();
    let reply = login("openid read:measurements").await;
    let jwt = reply.body["access_token"].as_str().unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[crate::fixtures::API]);
    let key = DecodingKey::from_secret(b"measurements-hs256-secret-0123456789");
    let claims = decode::<Value>(jwt, &key, &validation).unwrap().claims;
    assert_eq!(claims["aud"], crate::fixtures::API);
    // Such a token is not good at /userinfo; a token without openid never is.
    let info = server
        .http
        .get(server.url("/userinfo"))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 401);
    api.signing_alg = SigningAlg::RS256;
    server.store.update_resource_server(&api).await.unwrap();
    let reply = login("read:measurements").await;
    let jwt = reply.body["access_token"].as_str().unwrap();
    let info = server
        .http
        .get(server.url("/userinfo"))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 401);
    server.stop().await;
}
