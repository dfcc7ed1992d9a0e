//! Browser sessions: SSO sessions and dashboard sessions, one table each,
//! the same queries on both. Activity and logout are conditional updates on
//! the still active row, so a session that ended can never be revived by a
//! late touch.

use super::SqlStore;
use crate::error::{StoreError, StoreResult};
use crate::records::SsoSession;
use crate::{SessionKind, SessionStore};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str = "id_hash, sid, user_id, auth_time, created_at, last_seen_at, expires_at, \
                       idle_expires_at, ended_at";

fn table(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Sso => "sso_sessions",
        SessionKind::Dashboard => "dashboard_sessions",
    }
}

fn session_from_row(row: &AnyRow) -> StoreResult<SsoSession> {
    Ok(SsoSession {
        id_hash: row.try_get("id_hash")?,
        sid: row.try_get("sid")?,
        user_id: row.try_get("user_id")?,
        auth_time: row.try_get("auth_time")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        expires_at: row.try_get("expires_at")?,
        idle_expires_at: row.try_get("idle_expires_at")?,
        ended_at: row.try_get("ended_at")?,
    })
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_session(&self, kind: SessionKind, s: &SsoSession) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO {} ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            table(kind)
        ))
        .bind(&s.id_hash)
        .bind(&s.sid)
        .bind(&s.user_id)
        .bind(s.auth_time)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .bind(s.idle_expires_at)
        .bind(s.ended_at)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "session"))?;
        Ok(())
    }

    async fn active_session(
        &self,
        kind: SessionKind,
        id_hash: &str,
        now: i64,
    ) -> StoreResult<Option<SsoSession>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM {} WHERE id_hash = $1 AND ended_at IS NULL \
             AND expires_at > $2 AND idle_expires_at > $2",
            table(kind)
        ))
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn touch_session(
        &self,
        kind: SessionKind,
        id_hash: &str,
        now: i64,
        idle_expires_at: i64,
    ) -> StoreResult<bool> {
        let result = sqlx::query(&format!(
            "UPDATE {} SET last_seen_at = $1, \
             idle_expires_at = CASE WHEN $2 < expires_at THEN $2 ELSE expires_at END \
             WHERE id_hash = $3 AND ended_at IS NULL AND expires_at > $1 AND idle_expires_at > $1",
            table(kind)
        ))
        .bind(now)
        .bind(idle_expires_at)
        .bind(id_hash)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn end_session(&self, kind: SessionKind, id_hash: &str, now: i64) -> StoreResult<bool> {
        let result = sqlx::query(&format!(
            "UPDATE {} SET ended_at = $1 WHERE id_hash = $2 AND ended_at IS NULL",
            table(kind)
        ))
        .bind(now)
        .bind(id_hash)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn end_user_sessions(
        &self,
        kind: SessionKind,
        user_id: &str,
        now: i64,
    ) -> StoreResult<u64> {
        let result = sqlx::query(&format!(
            "UPDATE {} SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL",
            table(kind)
        ))
        .bind(now)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}
