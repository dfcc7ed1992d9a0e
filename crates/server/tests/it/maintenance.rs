//! Background upkeep: one node at a time purges expired data.

use crate::support::TestServer;
use gatehouse_server::background::{purge_pass, BackgroundConfig};
use gatehouse_store::OpaqueToken;

#[tokio::test]
async fn only_the_lease_holder_purges() {
    let server = TestServer::start().await;
    let now = server.state.now();
    for i in 0..3 {
        server
            .store
            .insert_opaque_token(&OpaqueToken {
                token_hash: format!("expired-{i}"),
                client_id: "c".into(),
                user_id: "u".into(),
                scope: "openid".into(),
                expires_at: now - 10,
                jti: None,
            })
            .await
            .unwrap();
    }
    let config = BackgroundConfig {
        purge_batch: 2,
        ..BackgroundConfig::default()
    };
    assert_eq!(
        purge_pass(&server.state, "node-a", &config).await.unwrap(),
        3
    );
    server
        .store
        .insert_opaque_token(&OpaqueToken {
            token_hash: "expired-late".into(),
            client_id: "c".into(),
            user_id: "u".into(),
            scope: "openid".into(),
            expires_at: now - 10,
            jti: None,
        })
        .await
        .unwrap();
    assert_eq!(
        purge_pass(&server.state, "node-b", &config).await.unwrap(),
        0,
        "node-a holds the lease"
    );
    assert_eq!(
        purge_pass(&server.state, "node-a", &config).await.unwrap(),
        1
    );
    server.stop().await;
}
