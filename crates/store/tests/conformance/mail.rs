//! The mail queue and tickets: leases that never hand one mail to two
//! claimers, settling only by the holder of the lease, retries, jobs, and
//! tickets that supersede their predecessors and work exactly once, also
//! under concurrent use; purging of old mail and expired tickets.

use super::harness::{assert_conflict, T0};
use gatehouse_store::mail_templates::{RESET_EMAIL, VERIFY_EMAIL};
use gatehouse_store::{QueuedMail, Store, TicketKind, TicketRedemption, UserTicket};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Barrier;

const LEASE: i64 = 60;

fn mail(id: &str, due: i64) -> QueuedMail {
    let mut mail = QueuedMail::new(id.into(), VERIFY_EMAIL, "auth0|alice", "alice@x.test", due);
    mail.created_at = T0;
    mail
}

fn ticket(id_hash: &str, user_id: &str, kind: TicketKind, created_at: i64) -> UserTicket {
    UserTicket {
        id_hash: id_hash.into(),
        kind,
        user_id: user_id.into(),
        client_id: None,
        result_url: None,
        mark_email_verified: false,
        created_at,
        expires_at: created_at + 3600,
        used_at: None,
        superseded_at: None,
    }
}

fn ids(mails: &[QueuedMail]) -> Vec<&str> {
    mails.iter().map(|m| m.id.as_str()).collect()
}

pub async fn mail_queue_round_trip(store: &dyn Store) {
    let mut full = QueuedMail::new("m-full".into(), RESET_EMAIL, "auth0|bob", "bob@x.test", T0);
    full.client_id = Some("spa".into());
    full.result_url = Some("https://app.test/done".into());
    full.ttl_seconds = Some(600);
    full.job_id = Some("job_full".into());
    store.enqueue_mail(&full).await.unwrap();
    let bare = mail("m-bare", T0 + 5);
    store.enqueue_mail(&bare).await.unwrap();

    assert_eq!(
        store.queued_mail("m-full").await.unwrap(),
        Some(full.clone())
    );
    assert_eq!(store.queued_mail("m-bare").await.unwrap(), Some(bare));
    assert_eq!(store.queued_mail("nope").await.unwrap(), None);
    assert_eq!(store.mail_by_job("job_full").await.unwrap(), Some(full));
    assert_eq!(store.mail_by_job("job_none").await.unwrap(), None);
    assert_eq!(store.pending_mail_count().await.unwrap(), 2);

    // A job id names one mail; the same mail id twice is refused too.
    let mut twin = mail("m-twin", T0);
    twin.job_id = Some("job_full".into());
    assert_conflict(store.enqueue_mail(&twin).await);
    assert_conflict(store.enqueue_mail(&mail("m-bare", T0)).await);
    assert_eq!(store.queued_mail("m-twin").await.unwrap(), None);
    // Mails without a job id do not collide on it.
    store.enqueue_mail(&mail("m-other", T0)).await.unwrap();
    assert_eq!(store.pending_mail_count().await.unwrap(), 3);
}

pub async fn mail_claims_due_mail_oldest_first(store: &dyn Store) {
    store.enqueue_mail(&mail("later", T0 + 30)).await.unwrap();
    store.enqueue_mail(&mail("second", T0 - 5)).await.unwrap();
    store.enqueue_mail(&mail("first", T0 - 10)).await.unwrap();
    store.enqueue_mail(&mail("third", T0)).await.unwrap();

    let claimed = store.claim_mail("node-a", T0, T0 + LEASE, 2).await.unwrap();
    assert_eq!(ids(&claimed), ["first", "second"]);
    assert_eq!(claimed[0], mail("first", T0 - 10));
    // Leased mails are not handed out again; a mail not yet due waits.
    let claimed = store
        .claim_mail("node-b", T0, T0 + LEASE, 10)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["third"]);
    assert!(store
        .claim_mail("node-b", T0 + 1, T0 + LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    // Claiming is no sending: all four are still pending.
    assert_eq!(store.pending_mail_count().await.unwrap(), 4);
    let claimed = store
        .claim_mail("node-b", T0 + 30, T0 + 90, 10)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), ["later"]);
}

/// Four claimers racing over forty mails: every mail is handed out exactly once.
pub async fn mail_claims_are_disjoint_under_concurrency(store: &Arc<dyn Store>) {
    const MAILS: usize = 40;
    const CLAIMERS: usize = 4;
    for i in 0..MAILS {
        store
            .enqueue_mail(&mail(&format!("m-{i:02}"), T0 - i as i64))
            .await
            .unwrap();
    }
    let barrier = Arc::new(Barrier::new(CLAIMERS));
    let tasks: Vec<_> = (0..CLAIMERS)
        .map(|n| {
            let store = Arc::clone(store);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                let holder = format!("node-{n}");
                barrier.wait().await;
                let mut mine = Vec::new();
                loop {
                    let batch = store.claim_mail(&holder, T0, T0 + LEASE, 3).await.unwrap();
                    if batch.is_empty() {
                        return (holder, mine);
                    }
                    mine.extend(batch.into_iter().map(|m| m.id));
                }
            })
        })
        .collect();
    let mut holder_of: HashMap<String, String> = HashMap::new();
    for task in tasks {
        let (holder, mine) = task.await.expect("claimer");
        for id in mine {
            if let Some(other) = holder_of.insert(id.clone(), holder.clone()) {
                panic!("{id} claimed by {other} and {holder}");
            }
        }
    }
    // A claim that lost every row of its pick to a racer may stop early;
    // whatever is left is still claimable once, and nothing twice.
    let rest = store
        .claim_mail("sweeper", T0, T0 + LEASE, 100)
        .await
        .unwrap();
    for m in rest {
        assert!(
            holder_of.insert(m.id.clone(), "sweeper".into()).is_none(),
            "{} claimed twice",
            m.id
        );
    }
    assert_eq!(holder_of.len(), MAILS);
    // Each mail can be settled by its holder only.
    for (id, holder) in &holder_of {
        let other = if holder == "sweeper" {
            "node-0"
        } else {
            "sweeper"
        };
        assert!(!store.mark_mail_sent(id, other, T0 + 1).await.unwrap());
        assert!(store.mark_mail_sent(id, holder, T0 + 1).await.unwrap());
    }
    assert_eq!(store.pending_mail_count().await.unwrap(), 0);
}

pub async fn mail_lease_expiry_hands_over(store: &dyn Store) {
    store.enqueue_mail(&mail("m", T0)).await.unwrap();
    let first = store
        .claim_mail("node-a", T0, T0 + LEASE, 10)
        .await
        .unwrap();
    assert_eq!(ids(&first), ["m"]);
    // Still leased a moment before the lease ends.
    assert!(store
        .claim_mail("node-b", T0 + LEASE - 1, T0 + 2 * LEASE, 10)
        .await
        .unwrap()
        .is_empty());
    // node-a died: at the lease's end another node takes the mail.
    let second = store
        .claim_mail("node-b", T0 + LEASE, T0 + 2 * LEASE, 10)
        .await
        .unwrap();
    assert_eq!(ids(&second), ["m"]);

    // The stale holder can neither mark it sent, nor retry, nor give up.
    assert!(!store
        .mark_mail_sent("m", "node-a", T0 + LEASE + 1)
        .await
        .unwrap());
    store
        .retry_mail("m", "node-a", T0 + 10_000, "stale")
        .await
        .unwrap();
    store
        .fail_mail("m", "node-a", T0 + LEASE + 1, "stale")
        .await
        .unwrap();
    let m = store.queued_mail("m").await.unwrap().unwrap();
    assert_eq!(
        (
            m.attempts,
            m.next_attempt_at,
            m.last_error,
            m.sent_at,
            m.failed_at
        ),
        (0, T0, None, None, None)
    );
    // The holder marks it sent, once; a sent mail is never claimed again.
    assert!(store
        .mark_mail_sent("m", "node-b", T0 + LEASE + 2)
        .await
        .unwrap());
    assert!(!store
        .mark_mail_sent("m", "node-b", T0 + LEASE + 3)
        .await
        .unwrap());
    let m = store.queued_mail("m").await.unwrap().unwrap();
    assert_eq!(m.sent_at, Some(T0 + LEASE + 2));
    assert_eq!(store.pending_mail_count().await.unwrap(), 0);
    assert!(store
        .claim_mail("node-c", T0 + 100_000, T0 + 100_060, 10)
        .await
        .unwrap()
        .is_empty());
    // An unknown mail is nobody's to settle.
    assert!(!store.mark_mail_sent("nope", "node-b", T0).await.unwrap());
    store.retry_mail("nope", "node-b", T0, "x").await.unwrap();
    store.fail_mail("nope", "node-b", T0, "x").await.unwrap();
}

pub async fn mail_retry_and_give_up(store: &dyn Store) {
    store.enqueue_mail(&mail("m", T0)).await.unwrap();
    store
        .claim_mail("node-a", T0, T0 + LEASE, 10)
        .await
        .unwrap();
    store
        .retry_mail("m", "node-a", T0 + 5, "421 try later")
        .await
        .unwrap();
    let m = store.queued_mail("m").await.unwrap().unwrap();
    assert_eq!(
        (m.attempts, m.next_attempt_at, m.last_error.as_deref()),
        (1, T0 + 5, Some("421 try later"))
    );
    // Not due before the retry time, even though its lease was released.
    assert!(store
        .claim_mail("node-b", T0 + 4, T0 + 64, 10)
        .await
        .unwrap()
        .is_empty());
    // The retry released the lease: node-a no longer holds it.
    assert!(!store.mark_mail_sent("m", "node-a", T0 + 4).await.unwrap());
    let again = store
        .claim_mail("node-b", T0 + 5, T0 + 65, 10)
        .await
        .unwrap();
    assert_eq!(again[0].attempts, 1);
    store
        .retry_mail("m", "node-b", T0 + 15, "421 still busy")
        .await
        .unwrap();
    store
        .claim_mail("node-a", T0 + 15, T0 + 75, 10)
        .await
        .unwrap();
    store
        .fail_mail("m", "node-a", T0 + 16, "550 no such user")
        .await
        .unwrap();
    let m = store.queued_mail("m").await.unwrap().unwrap();
    assert_eq!(
        (m.attempts, m.failed_at, m.sent_at, m.last_error.as_deref()),
        (3, Some(T0 + 16), None, Some("550 no such user"))
    );
    // Given up: not pending, never claimed again, not sendable.
    assert_eq!(store.pending_mail_count().await.unwrap(), 0);
    assert!(store
        .claim_mail("node-a", T0 + 100_000, T0 + 100_060, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(!store.mark_mail_sent("m", "node-a", T0 + 17).await.unwrap());
}

pub async fn tickets_supersede_same_user_and_kind(store: &dyn Store) {
    let mut first = ticket("t-1", "auth0|alice", TicketKind::PasswordChange, T0);
    first.client_id = Some("spa".into());
    first.result_url = Some("https://app.test/done".into());
    first.mark_email_verified = true;
    store.insert_ticket(&first).await.unwrap();
    assert_eq!(store.ticket("t-1").await.unwrap(), Some(first.clone()));
    assert_eq!(store.ticket("nope").await.unwrap(), None);

    let other_kind = ticket(
        "t-verify",
        "auth0|alice",
        TicketKind::EmailVerification,
        T0 + 1,
    );
    let other_user = ticket("t-bob", "auth0|bob", TicketKind::PasswordChange, T0 + 1);
    let used = ticket("t-used", "auth0|alice", TicketKind::PasswordChange, T0 + 1);
    for t in [&other_kind, &other_user, &used] {
        store.insert_ticket(t).await.unwrap();
    }
    // t-used superseded t-1; redeeming t-used before the next one comes.
    assert_eq!(
        store.ticket("t-1").await.unwrap().unwrap().superseded_at,
        Some(T0 + 1)
    );
    assert!(matches!(
        store.redeem_ticket("t-used", T0 + 2).await.unwrap(),
        TicketRedemption::Redeemed(_)
    ));

    let newest = ticket("t-2", "auth0|alice", TicketKind::PasswordChange, T0 + 10);
    store.insert_ticket(&newest).await.unwrap();
    assert_eq!(
        store.redeem_ticket("t-1", T0 + 11).await.unwrap(),
        TicketRedemption::Superseded
    );
    // A used ticket keeps saying "used", not "superseded".
    let used_now = store.ticket("t-used").await.unwrap().unwrap();
    assert_eq!(
        (used_now.used_at, used_now.superseded_at),
        (Some(T0 + 2), None)
    );
    assert_eq!(
        store.redeem_ticket("t-used", T0 + 11).await.unwrap(),
        TicketRedemption::Used
    );
    // Another kind and another user are untouched.
    for t in [&other_kind, &other_user] {
        assert_eq!(store.ticket(&t.id_hash).await.unwrap().as_ref(), Some(t));
    }
    assert_eq!(
        store.redeem_ticket("t-2", T0 + 11).await.unwrap(),
        TicketRedemption::Redeemed(UserTicket {
            used_at: Some(T0 + 11),
            ..newest
        })
    );
    // The same secret twice is refused, and the refused insert supersedes
    // nothing: its transaction is rolled back.
    assert_conflict(
        store
            .insert_ticket(&ticket(
                "t-bob",
                "auth0|alice",
                TicketKind::EmailVerification,
                T0 + 20,
            ))
            .await,
    );
    assert_eq!(
        store.ticket("t-verify").await.unwrap().as_ref(),
        Some(&other_kind)
    );
    assert_eq!(
        store.ticket("t-bob").await.unwrap().as_ref(),
        Some(&other_user)
    );
}

pub async fn tickets_superseded_all_at_once(store: &dyn Store) {
    let reset = ticket("a-reset", "auth0|alice", TicketKind::PasswordChange, T0);
    let verify = ticket("a-verify", "auth0|alice", TicketKind::EmailVerification, T0);
    let used = ticket(
        "a-used",
        "auth0|alice",
        TicketKind::EmailVerification,
        T0 - 5,
    );
    let bobs = ticket("b-reset", "auth0|bob", TicketKind::PasswordChange, T0);
    for t in [&used, &reset, &verify, &bobs] {
        store.insert_ticket(t).await.unwrap();
    }
    assert_eq!(
        store
            .supersede_tickets("auth0|alice", T0 + 1)
            .await
            .unwrap(),
        2
    );
    for id in ["a-reset", "a-verify"] {
        assert_eq!(
            store.redeem_ticket(id, T0 + 2).await.unwrap(),
            TicketRedemption::Superseded,
            "{id}"
        );
    }
    // Bob's ticket is untouched; nothing is left to supersede for Alice.
    assert!(matches!(
        store.redeem_ticket("b-reset", T0 + 2).await.unwrap(),
        TicketRedemption::Redeemed(_)
    ));
    assert_eq!(
        store
            .supersede_tickets("auth0|alice", T0 + 3)
            .await
            .unwrap(),
        0
    );
}

pub async fn tickets_redeem_refusals(store: &dyn Store) {
    let t = ticket("t", "auth0|alice", TicketKind::EmailVerification, T0);
    store.insert_ticket(&t).await.unwrap();
    assert_eq!(
        store.redeem_ticket("missing", T0).await.unwrap(),
        TicketRedemption::NotFound
    );
    // Expired at its expiry instant, and refusing leaves it unused.
    assert_eq!(
        store.redeem_ticket("t", t.expires_at).await.unwrap(),
        TicketRedemption::Expired
    );
    assert_eq!(store.ticket("t").await.unwrap().unwrap().used_at, None);
    assert!(matches!(
        store.redeem_ticket("t", t.expires_at - 1).await.unwrap(),
        TicketRedemption::Redeemed(r) if r.used_at == Some(t.expires_at - 1)
    ));
    assert_eq!(
        store.redeem_ticket("t", t.expires_at - 1).await.unwrap(),
        TicketRedemption::Used
    );
    // Used beats expired when both hold.
    assert_eq!(
        store.redeem_ticket("t", t.expires_at + 10).await.unwrap(),
        TicketRedemption::Used
    );
}

/// Eight redemptions of one ticket at the same moment: exactly one wins.
pub async fn tickets_redeem_once_under_concurrency(store: &Arc<dyn Store>) {
    const RACERS: usize = 8;
    let t = ticket("race", "auth0|alice", TicketKind::PasswordChange, T0);
    store.insert_ticket(&t).await.unwrap();
    let barrier = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let store = Arc::clone(store);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store.redeem_ticket("race", T0 + 1).await
            })
        })
        .collect();
    let (mut redeemed, mut used) = (0, 0);
    for task in tasks {
        match task.await.expect("task").expect("redeem") {
            TicketRedemption::Redeemed(r) => {
                assert_eq!(r.user_id, "auth0|alice");
                redeemed += 1;
            }
            TicketRedemption::Used => used += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((redeemed, used), (1, RACERS - 1));
}

pub async fn mail_and_tickets_purged(store: &dyn Store) {
    const RETENTION: i64 = 30 * 86_400;
    let long_ago = T0 - RETENTION - 10;
    let old = |id: &str| {
        let mut m = mail(id, long_ago);
        m.created_at = long_ago;
        m
    };
    for id in ["old-sent", "old-failed", "old-pending", "old-leased"] {
        store.enqueue_mail(&old(id)).await.unwrap();
    }
    store
        .enqueue_mail(&mail("new-sent", T0 - 10))
        .await
        .unwrap();
    let claimed = store
        .claim_mail("node", long_ago, long_ago + LEASE, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 4);
    assert!(store
        .mark_mail_sent("old-sent", "node", long_ago)
        .await
        .unwrap());
    store
        .fail_mail("old-failed", "node", long_ago, "550")
        .await
        .unwrap();
    store
        .retry_mail("old-pending", "node", T0 + 5, "421")
        .await
        .unwrap();
    let new = store.claim_mail("node", T0, T0 + LEASE, 10).await.unwrap();
    assert_eq!(ids(&new), ["old-leased", "new-sent"]);
    assert!(store.mark_mail_sent("new-sent", "node", T0).await.unwrap());

    let expired = ticket(
        "t-expired",
        "auth0|a",
        TicketKind::PasswordChange,
        T0 - 2 * 86_400,
    );
    let just_expired = ticket("t-just", "auth0|b", TicketKind::PasswordChange, T0 - 4000);
    let live = ticket("t-live", "auth0|c", TicketKind::EmailVerification, T0);
    for t in [&expired, &just_expired, &live] {
        store.insert_ticket(t).await.unwrap();
    }

    let report = store.purge_expired(T0, RETENTION, 100).await.unwrap();
    assert_eq!((report.mail_queue, report.user_tickets), (2, 1));
    for gone in ["old-sent", "old-failed"] {
        assert_eq!(store.queued_mail(gone).await.unwrap(), None, "{gone}");
    }
    // Unfinished mail stays whatever its age; recent sent mail stays for its job.
    for kept in ["old-pending", "old-leased", "new-sent"] {
        assert!(store.queued_mail(kept).await.unwrap().is_some(), "{kept}");
    }
    assert_eq!(store.ticket("t-expired").await.unwrap(), None);
    // Expired less than a day ago: kept, so a late click still reads "expired".
    assert_eq!(
        store.redeem_ticket("t-just", T0).await.unwrap(),
        TicketRedemption::Expired
    );
    assert!(store.ticket("t-live").await.unwrap().is_some());
    let again = store.purge_expired(T0, RETENTION, 100).await.unwrap();
    assert_eq!((again.mail_queue, again.user_tickets), (0, 0));
}
