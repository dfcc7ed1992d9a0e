//! The outgoing-mail queue (leased to one node at a time) and tickets.

use super::SqlStore;
use crate::error::StoreResult;
use crate::{MailStore, QueuedMail, TicketRedemption, UserTicket};
use async_trait::async_trait;

#[async_trait]
impl MailStore for SqlStore {
    async fn enqueue_mail(&self, mail: &QueuedMail) -> StoreResult<()> {
        let _ = mail;
        todo!("helper")
    }
    async fn claim_mail(
        &self,
        holder: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>> {
        let _ = (holder, now, lease_until, limit);
        todo!("helper")
    }
    async fn mark_mail_sent(&self, id: &str, holder: &str, now: i64) -> StoreResult<bool> {
        let _ = (id, holder, now);
        todo!("helper")
    }
    async fn retry_mail(
        &self,
        id: &str,
        holder: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> StoreResult<()> {
        let _ = (id, holder, next_attempt_at, error);
        todo!("helper")
    }
    async fn fail_mail(&self, id: &str, holder: &str, now: i64, error: &str) -> StoreResult<()> {
        let _ = (id, holder, now, error);
        todo!("helper")
    }
    async fn queued_mail(&self, id: &str) -> StoreResult<Option<QueuedMail>> {
        let _ = id;
        todo!("helper")
    }
    async fn mail_by_job(&self, job_id: &str) -> StoreResult<Option<QueuedMail>> {
        let _ = job_id;
        todo!("helper")
    }
    async fn pending_mail_count(&self) -> StoreResult<i64> {
        todo!("helper")
    }
    async fn insert_ticket(&self, ticket: &UserTicket) -> StoreResult<()> {
        let _ = ticket;
        todo!("helper")
    }
    async fn ticket(&self, id_hash: &str) -> StoreResult<Option<UserTicket>> {
        let _ = id_hash;
        todo!("helper")
    }
    async fn redeem_ticket(&self, id_hash: &str, now: i64) -> StoreResult<TicketRedemption> {
        let _ = (id_hash, now);
        todo!("helper")
    }
}
