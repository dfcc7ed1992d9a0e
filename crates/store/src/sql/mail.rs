//! The outgoing-mail queue (leased to one node at a time) and tickets.
//!
//! A claim is one `UPDATE … RETURNING` whose outer `WHERE` repeats the
//! "due and not leased" condition of the subquery that picks the ids: when
//! two nodes pick the same ids, the second re-checks each row after the
//! first's write and skips it, so claims are disjoint on both backends
//! without row locks. Settling a mail (sent, retry, give up) is a
//! conditional update on `claimed_by = holder`: a node whose lease ran out
//! and was taken over changes nothing. A lease that ran out but was not
//! taken over still counts as held, so a slow send is recorded, not repeated.
//!
//! Redeeming a ticket is one conditional update on the still usable row;
//! only when it changes nothing is the row read, to say why.

use super::{bool_int, SqlStore};
use crate::error::{StoreError, StoreResult};
use crate::{MailStore, QueuedMail, TicketKind, TicketRedemption, UserTicket};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

const MAIL_COLUMNS: &str = "id, template, user_id, recipient, client_id, result_url, \
                            ttl_seconds, job_id, attempts, next_attempt_at, last_error, \
                            sent_at, failed_at, created_at";

const TICKET_COLUMNS: &str = "id_hash, kind, user_id, client_id, result_url, \
                              mark_email_verified, created_at, expires_at, used_at, superseded_at";

/// A mail that is neither sent nor given up, due at `$3` and not leased.
const CLAIMABLE: &str = "sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $3 \
                         AND (lease_until IS NULL OR lease_until <= $3)";

/// The mail (placeholder `$n`) is still open and leased to the holder (`$n+1`).
fn held(n: usize) -> String {
    format!(
        "id = ${n} AND claimed_by = ${} AND sent_at IS NULL AND failed_at IS NULL",
        n + 1
    )
}

fn mail_from_row(row: &AnyRow) -> StoreResult<QueuedMail> {
    Ok(QueuedMail {
        id: row.try_get("id")?,
        template: row.try_get("template")?,
        user_id: row.try_get("user_id")?,
        recipient: row.try_get("recipient")?,
        client_id: row.try_get("client_id")?,
        result_url: row.try_get("result_url")?,
        ttl_seconds: row.try_get("ttl_seconds")?,
        job_id: row.try_get("job_id")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        sent_at: row.try_get("sent_at")?,
        failed_at: row.try_get("failed_at")?,
        created_at: row.try_get("created_at")?,
    })
}

fn ticket_from_row(row: &AnyRow) -> StoreResult<UserTicket> {
    let kind: String = row.try_get("kind")?;
    Ok(UserTicket {
        id_hash: row.try_get("id_hash")?,
        kind: TicketKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("ticket kind {kind}")))?,
        user_id: row.try_get("user_id")?,
        client_id: row.try_get("client_id")?,
        result_url: row.try_get("result_url")?,
        mark_email_verified: row.try_get::<i64, _>("mark_email_verified")? != 0,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        superseded_at: row.try_get("superseded_at")?,
    })
}

/// Why a ticket that could not be redeemed at `now` is not usable.
fn refusal(ticket: Option<UserTicket>, now: i64) -> TicketRedemption {
    match ticket {
        None => TicketRedemption::NotFound,
        Some(t) if t.used_at.is_some() => TicketRedemption::Used,
        Some(t) if t.superseded_at.is_some() => TicketRedemption::Superseded,
        Some(t) if t.expires_at <= now => TicketRedemption::Expired,
        // Usable when read, so it was inserted after the update missed it:
        // it did not exist when it was presented.
        Some(_) => TicketRedemption::NotFound,
    }
}

/// Ends a failed delivery attempt held by `holder`: counts it, records the
/// error, releases the lease and sets `column` (the next attempt's time, or
/// when the mail was given up) to `at`.
async fn end_attempt(
    pool: &AnyPool,
    id: &str,
    holder: &str,
    column: &'static str,
    at: i64,
    error: &str,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "UPDATE mail_queue SET attempts = attempts + 1, {column} = $1, \
         last_error = $2, claimed_by = NULL, lease_until = NULL WHERE {}",
        held(3)
    ))
    .bind(at)
    .bind(error)
    .bind(id)
    .bind(holder)
    .execute(pool)
    .await?;
    Ok(())
}

#[async_trait]
impl MailStore for SqlStore {
    async fn enqueue_mail(&self, mail: &QueuedMail) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO mail_queue ({MAIL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&mail.id)
        .bind(&mail.template)
        .bind(&mail.user_id)
        .bind(&mail.recipient)
        .bind(&mail.client_id)
        .bind(&mail.result_url)
        .bind(mail.ttl_seconds)
        .bind(&mail.job_id)
        .bind(mail.attempts)
        .bind(mail.next_attempt_at)
        .bind(&mail.last_error)
        .bind(mail.sent_at)
        .bind(mail.failed_at)
        .bind(mail.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "mail job"))?;
        Ok(())
    }

    async fn claim_mail(
        &self,
        holder: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<QueuedMail>> {
        let rows = sqlx::query(&format!(
            "UPDATE mail_queue SET claimed_by = $1, lease_until = $2 \
             WHERE id IN (SELECT id FROM mail_queue WHERE {CLAIMABLE} \
                          ORDER BY next_attempt_at, created_at, id LIMIT $4) \
             AND {CLAIMABLE} RETURNING {MAIL_COLUMNS}"
        ))
        .bind(holder)
        .bind(lease_until)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut mails = rows
            .iter()
            .map(mail_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING keeps no order.
        mails.sort_by(|a, b| {
            (a.next_attempt_at, a.created_at, &a.id).cmp(&(b.next_attempt_at, b.created_at, &b.id))
        });
        Ok(mails)
    }

    async fn mark_mail_sent(&self, id: &str, holder: &str, now: i64) -> StoreResult<bool> {
        let result = sqlx::query(&format!(
            "UPDATE mail_queue SET sent_at = $1, claimed_by = NULL, lease_until = NULL \
             WHERE {}",
            held(2)
        ))
        .bind(now)
        .bind(id)
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    // A holder that lost its lease changes nothing in `retry_mail` and
    // `fail_mail`: the new holder's attempt is the one that counts.
    async fn retry_mail(
        &self,
        id: &str,
        holder: &str,
        next_attempt_at: i64,
        error: &str,
    ) -> StoreResult<()> {
        end_attempt(
            &self.pool,
            id,
            holder,
            "next_attempt_at",
            next_attempt_at,
            error,
        )
        .await
    }

    async fn fail_mail(&self, id: &str, holder: &str, now: i64, error: &str) -> StoreResult<()> {
        end_attempt(&self.pool, id, holder, "failed_at", now, error).await
    }

    async fn queued_mail(&self, id: &str) -> StoreResult<Option<QueuedMail>> {
        let row = sqlx::query(&format!(
            "SELECT {MAIL_COLUMNS} FROM mail_queue WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(mail_from_row).transpose()
    }

    async fn mail_by_job(&self, job_id: &str) -> StoreResult<Option<QueuedMail>> {
        let row = sqlx::query(&format!(
            "SELECT {MAIL_COLUMNS} FROM mail_queue WHERE job_id = $1"
        ))
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(mail_from_row).transpose()
    }

    async fn pending_mail_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM mail_queue WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn insert_ticket(&self, ticket: &UserTicket) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE user_tickets SET superseded_at = $1 \
             WHERE user_id = $2 AND kind = $3 AND used_at IS NULL AND superseded_at IS NULL",
        )
        .bind(ticket.created_at)
        .bind(&ticket.user_id)
        .bind(ticket.kind.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "INSERT INTO user_tickets ({TICKET_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&ticket.id_hash)
        .bind(ticket.kind.as_str())
        .bind(&ticket.user_id)
        .bind(&ticket.client_id)
        .bind(&ticket.result_url)
        .bind(bool_int(ticket.mark_email_verified))
        .bind(ticket.created_at)
        .bind(ticket.expires_at)
        .bind(ticket.used_at)
        .bind(ticket.superseded_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_write(e, "ticket"))?;
        tx.commit().await?;
        Ok(())
    }

    async fn supersede_tickets(&self, user_id: &str, now: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE user_tickets SET superseded_at = $1 \
             WHERE user_id = $2 AND used_at IS NULL AND superseded_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn ticket(&self, id_hash: &str) -> StoreResult<Option<UserTicket>> {
        let row = sqlx::query(&format!(
            "SELECT {TICKET_COLUMNS} FROM user_tickets WHERE id_hash = $1"
        ))
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    async fn redeem_ticket(&self, id_hash: &str, now: i64) -> StoreResult<TicketRedemption> {
        let row = sqlx::query(&format!(
            "UPDATE user_tickets SET used_at = $1 WHERE id_hash = $2 \
             AND used_at IS NULL AND superseded_at IS NULL AND expires_at > $1 \
             RETURNING {TICKET_COLUMNS}"
        ))
        .bind(now)
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(TicketRedemption::Redeemed(ticket_from_row(&row)?)),
            None => Ok(refusal(self.ticket(id_hash).await?, now)),
        }
    }
}
