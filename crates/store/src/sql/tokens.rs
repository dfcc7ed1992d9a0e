//! Authorization codes, refresh-token families, opaque tokens, device codes,
//! client-assertion jtis and log events.

use super::bulk::Value;
use super::{body, from_json, to_json, SqlStore};
use crate::error::{StoreError, StoreResult};
use crate::records::*;
use crate::TokenStore;
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

fn family_from_row(row: &AnyRow) -> StoreResult<RefreshFamily> {
    let mut family: RefreshFamily = body(row)?;
    family.revoked_at = row.try_get("revoked_at")?;
    Ok(family)
}

fn device_from_row(row: &AnyRow) -> StoreResult<DeviceCode> {
    let status: String = row.try_get("status")?;
    Ok(DeviceCode {
        device_code_hash: row.try_get("device_code_hash")?,
        user_code: row.try_get("user_code")?,
        client_id: row.try_get("client_id")?,
        request: body(row)?,
        status: DeviceStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("device status {status}")))?,
        user_id: row.try_get("user_id")?,
        expires_at: row.try_get("expires_at")?,
        last_polled_at: row.try_get("last_polled_at")?,
    })
}

/// The columns [`log_from_row`] reads, named rather than `*`: SQLite compiles
/// `*` against the schema a pooled connection last saw, so a connection opened
/// before a migration added columns would return the old column count.
const LOG_COLUMNS: &str = "id, date, type, client_id, user_id, description, body, \
                           jti, ip, user_agent, client_name, user_name, audience, scope";

fn log_from_row(row: &AnyRow) -> StoreResult<LogEvent> {
    Ok(LogEvent {
        log_id: row.try_get("id")?,
        date: row.try_get("date")?,
        event_type: row.try_get("type")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        description: row.try_get("description")?,
        jti: row.try_get("jti")?,
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
        client_name: row.try_get("client_name")?,
        user_name: row.try_get("user_name")?,
        audience: row.try_get("audience")?,
        scope: row.try_get("scope")?,
        details: from_json(&row.try_get::<String, _>("body")?)?,
    })
}

/// The columns a log event is written to, in the order of [`log_values`].
pub(crate) const LOG_INSERT_COLUMNS: [&str; 14] = [
    "id",
    "date",
    "type",
    "client_id",
    "user_id",
    "description",
    "body",
    "jti",
    "ip",
    "user_agent",
    "client_name",
    "user_name",
    "audience",
    "scope",
];

pub(crate) fn log_values(event: &LogEvent) -> Vec<Value> {
    vec![
        Value::Text(Some(event.log_id.clone())),
        Value::Int(Some(event.date)),
        Value::Text(Some(event.event_type.clone())),
        Value::Text(event.client_id.clone()),
        Value::Text(event.user_id.clone()),
        Value::Text(Some(event.description.clone())),
        Value::Text(Some(to_json(&event.details))),
        Value::Text(event.jti.clone()),
        Value::Text(event.ip.clone()),
        Value::Text(event.user_agent.clone()),
        Value::Text(event.client_name.clone()),
        Value::Text(event.user_name.clone()),
        Value::Text(event.audience.clone()),
        Value::Text(event.scope.clone()),
    ]
}

/// A value bound to a log search's placeholder.
enum LogBind {
    Text(String),
    Int(i64),
}

/// A log search's SQL: only fixed column names, operators and `$n`
/// placeholders go into the text; every value the caller gave is bound.
struct LogSql {
    text: String,
    binds: Vec<LogBind>,
    has_where: bool,
}

impl LogSql {
    fn filtered(select: &str, filter: &LogFilter) -> Self {
        let mut sql = Self {
            text: select.to_string(),
            binds: Vec::new(),
            has_where: false,
        };
        let text = |v: &Option<String>| v.clone().map(LogBind::Text);
        let conditions = [
            ("type =", text(&filter.event_type)),
            ("client_id =", text(&filter.client_id)),
            ("user_id =", text(&filter.user_id)),
            ("date >=", filter.date_from.map(LogBind::Int)),
            ("date <=", filter.date_to.map(LogBind::Int)),
        ];
        for (column_and_operator, value) in conditions {
            if let Some(value) = value {
                sql.condition(column_and_operator, value);
            }
        }
        sql
    }

    /// Adds the value and returns its placeholder number.
    fn bind(&mut self, value: LogBind) -> usize {
        self.binds.push(value);
        self.binds.len()
    }

    /// `column_and_operator` is a constant such as `"date >="`.
    fn condition(&mut self, column_and_operator: &'static str, value: LogBind) {
        let at = self.bind(value);
        let joiner = if self.has_where { " AND " } else { " WHERE " };
        self.has_where = true;
        self.text
            .push_str(&format!("{joiner}{column_and_operator} ${at}"));
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        self.binds
            .iter()
            .fold(sqlx::query(&self.text), |query, value| match value {
                LogBind::Text(text) => query.bind(text.as_str()),
                LogBind::Int(number) => query.bind(*number),
            })
    }
}

#[async_trait]
impl TokenStore for SqlStore {
    async fn insert_authorization_code(
        &self,
        code_hash: &str,
        code: &AuthorizationCode,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_id, user_id, body, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code_hash)
        .bind(&code.client_id)
        .bind(&code.user_id)
        .bind(to_json(code))
        .bind(code.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "authorization code"))?;
        Ok(())
    }

    async fn redeem_authorization_code(
        &self,
        code_hash: &str,
        now: i64,
    ) -> StoreResult<CodeRedemption> {
        let redeemed = sqlx::query(
            "UPDATE authorization_codes SET redeemed_at = $1 \
             WHERE code_hash = $2 AND redeemed_at IS NULL RETURNING body",
        )
        .bind(now)
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = redeemed {
            return Ok(CodeRedemption::Redeemed(body(&row)?));
        }
        let row = sqlx::query(
            "SELECT body, issued_family_id FROM authorization_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(CodeRedemption::NotFound);
        };
        Ok(CodeRedemption::AlreadyUsed {
            code: body(&row)?,
            issued_family_id: row.try_get("issued_family_id")?,
        })
    }

    async fn create_refresh_family(
        &self,
        family: &RefreshFamily,
        first_token_hash: &str,
        max_active: i64,
        from_code: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO refresh_families (id, client_id, user_id, body, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&family.id)
        .bind(&family.client_id)
        .bind(&family.user_id)
        .bind(to_json(family))
        .bind(family.created_at)
        .bind(family.expires_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, family_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(first_token_hash)
        .bind(&family.id)
        .bind(family.created_at)
        .execute(&mut *tx)
        .await?;
        if let Some(code_hash) = from_code {
            sqlx::query(
                "UPDATE authorization_codes SET issued_family_id = $1 WHERE code_hash = $2",
            )
            .bind(&family.id)
            .bind(code_hash)
            .execute(&mut *tx)
            .await?;
        }
        // Auth0 keeps at most 200 active refresh tokens per user and application;
        // the oldest go first. Only the families past the cap (usually none)
        // are read, and they are revoked one by one newest first: every
        // transaction locks them in the same order, so concurrent exchanges
        // of one user wait for each other instead of deadlocking (PostgreSQL).
        let past_cap: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM refresh_families WHERE user_id = $1 AND client_id = $2 \
             AND revoked_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
        )
        .bind(&family.user_id)
        .bind(&family.client_id)
        .bind(i64::MAX)
        .bind(max_active.max(0))
        .fetch_all(&mut *tx)
        .await?;
        for id in &past_cap {
            sqlx::query("UPDATE refresh_families SET revoked_at = $1 WHERE id = $2")
                .bind(family.created_at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn refresh_token(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(RefreshTokenRecord, RefreshFamily)>> {
        let row = sqlx::query(
            "SELECT t.token_hash, t.family_id, t.created_at AS token_created_at, t.rotated_at, t.replaced_by, \
             f.body, f.revoked_at FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
             WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let token = RefreshTokenRecord {
            token_hash: row.try_get("token_hash")?,
            family_id: row.try_get("family_id")?,
            created_at: row.try_get("token_created_at")?,
            rotated_at: row.try_get("rotated_at")?,
            replaced_by: row.try_get("replaced_by")?,
        };
        Ok(Some((token, family_from_row(&row)?)))
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        leeway_since: Option<i64>,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let mut won = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = $1, replaced_by = $2 \
             WHERE token_hash = $3 AND rotated_at IS NULL",
        )
        .bind(now)
        .bind(new_hash)
        .bind(old_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !won {
            if let Some(since) = leeway_since {
                // Within the leeway the predecessor may be used again: its
                // successor (still unused) is retired and a new one takes its place.
                let retired = sqlx::query(
                    "UPDATE refresh_tokens SET rotated_at = $1 WHERE rotated_at IS NULL AND token_hash = \
                     (SELECT replaced_by FROM refresh_tokens WHERE token_hash = $2 AND rotated_at >= $3)",
                )
                .bind(now)
                .bind(old_hash)
                .bind(since)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if retired == 1 {
                    sqlx::query("UPDATE refresh_tokens SET replaced_by = $1 WHERE token_hash = $2")
                        .bind(new_hash)
                        .bind(old_hash)
                        .execute(&mut *tx)
                        .await?;
                    won = true;
                }
            }
        }
        if won {
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, family_id, created_at) \
                 SELECT $1, family_id, $2 FROM refresh_tokens WHERE token_hash = $3",
            )
            .bind(new_hash)
            .bind(now)
            .bind(old_hash)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(won)
    }

    async fn revoke_refresh_family(&self, family_id: &str, now: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE refresh_families SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(family_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn revoke_refresh_families_for(
        &self,
        user_id: &str,
        client_id: &str,
        now: i64,
    ) -> StoreResult<u64> {
        Ok(sqlx::query(
            "UPDATE refresh_families SET revoked_at = $1 WHERE user_id = $2 AND client_id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .bind(client_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    async fn insert_opaque_token(&self, token: &OpaqueToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO opaque_tokens (token_hash, client_id, user_id, scope, expires_at, jti) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&token.token_hash)
        .bind(&token.client_id)
        .bind(&token.user_id)
        .bind(&token.scope)
        .bind(token.expires_at)
        .bind(token.jti.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn opaque_token(&self, token_hash: &str) -> StoreResult<Option<OpaqueToken>> {
        // Named columns: a pooled SQLite connection may describe `*` as the
        // table was before a migration added a column.
        let row = sqlx::query(
            "SELECT token_hash, client_id, user_id, scope, expires_at, jti \
             FROM opaque_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(OpaqueToken {
                token_hash: row.try_get("token_hash")?,
                client_id: row.try_get("client_id")?,
                user_id: row.try_get("user_id")?,
                scope: row.try_get("scope")?,
                expires_at: row.try_get("expires_at")?,
                jti: row.try_get("jti")?,
            })
        })
        .transpose()
    }

    async fn insert_device_code(&self, code: &DeviceCode) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO device_codes (device_code_hash, user_code, client_id, body, status, user_id, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&code.device_code_hash)
        .bind(&code.user_code)
        .bind(&code.client_id)
        .bind(to_json(&code.request))
        .bind(code.status.as_str())
        .bind(code.user_id.clone())
        .bind(code.expires_at)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "user code"))?;
        Ok(())
    }

    async fn device_code(&self, device_code_hash: &str) -> StoreResult<Option<DeviceCode>> {
        sqlx::query("SELECT * FROM device_codes WHERE device_code_hash = $1")
            .bind(device_code_hash)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(device_from_row)
            .transpose()
    }

    async fn device_code_by_user_code(&self, user_code: &str) -> StoreResult<Option<DeviceCode>> {
        sqlx::query("SELECT * FROM device_codes WHERE user_code = $1")
            .bind(user_code)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(device_from_row)
            .transpose()
    }

    async fn transition_device_code(
        &self,
        device_code_hash: &str,
        from: DeviceStatus,
        to: DeviceStatus,
        user_id: Option<&str>,
    ) -> StoreResult<bool> {
        Ok(sqlx::query(
            "UPDATE device_codes SET status = $1, user_id = COALESCE($2, user_id) \
             WHERE device_code_hash = $3 AND status = $4",
        )
        .bind(to.as_str())
        .bind(user_id.map(str::to_string))
        .bind(device_code_hash)
        .bind(from.as_str())
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    async fn touch_device_code(
        &self,
        device_code_hash: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        // Compare-and-swap, so each of two concurrent polls sees the other's
        // time and `slow_down` cannot be dodged by polling in parallel.
        loop {
            let previous: Option<Option<i64>> = sqlx::query_scalar(
                "SELECT last_polled_at FROM device_codes WHERE device_code_hash = $1",
            )
            .bind(device_code_hash)
            .fetch_optional(&self.pool)
            .await?;
            let Some(previous) = previous else {
                return Ok(None);
            };
            let swapped = sqlx::query(
                "UPDATE device_codes SET last_polled_at = $1 WHERE device_code_hash = $2 \
                 AND COALESCE(last_polled_at, -1) = $3",
            )
            .bind(now)
            .bind(device_code_hash)
            .bind(previous.unwrap_or(-1))
            .execute(&self.pool)
            .await?
            .rows_affected();
            if swapped == 1 {
                return Ok(previous);
            }
        }
    }

    async fn use_jti(&self, client_id: &str, jti: &str, expires_at: i64) -> StoreResult<bool> {
        Ok(sqlx::query(
            "INSERT INTO used_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(expires_at)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    async fn insert_log_event(&self, event: &LogEvent) -> StoreResult<()> {
        self.logs.write(event.clone()).await
    }

    async fn flush_log_events(&self) -> StoreResult<()> {
        self.logs.flush().await
    }

    async fn import_log_events(&self, events: &[LogEvent]) -> StoreResult<()> {
        self.logs.flush().await?;
        super::log_writer::insert_in_transaction(&self.pool, events).await
    }

    async fn search_log_events(&self, query: &LogQuery) -> StoreResult<Vec<LogEvent>> {
        self.logs.flush().await?;
        let mut sql = LogSql::filtered(
            &format!("SELECT {LOG_COLUMNS} FROM log_events"),
            &query.filter,
        );
        let order = match (&query.window, query.order) {
            (LogWindow::Checkpoint { after, .. }, _) => {
                if let Some(after) = after {
                    sql.condition("id >", LogBind::Text(after.clone()));
                }
                "id ASC"
            }
            (LogWindow::Page(_), LogOrder::NewestFirst) => "date DESC, id DESC",
            (LogWindow::Page(_), LogOrder::OldestFirst) => "date ASC, id ASC",
        };
        let (limit, offset) = match &query.window {
            LogWindow::Page(page) => (page.limit, page.offset),
            LogWindow::Checkpoint { take, .. } => (*take, 0),
        };
        sql.text.push_str(" ORDER BY ");
        sql.text.push_str(order);
        let limit_at = sql.bind(LogBind::Int(limit));
        let offset_at = sql.bind(LogBind::Int(offset));
        sql.text
            .push_str(&format!(" LIMIT ${limit_at} OFFSET ${offset_at}"));
        sql.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(log_from_row)
            .collect()
    }

    async fn count_log_events(&self, filter: &LogFilter) -> StoreResult<i64> {
        self.logs.flush().await?;
        let sql = LogSql::filtered("SELECT COUNT(*) AS n FROM log_events", filter);
        let row = sql.query().fetch_one(&self.pool).await?;
        Ok(row.try_get("n")?)
    }

    async fn log_event_by_jti(&self, jti: &str) -> StoreResult<Option<LogEvent>> {
        self.logs.flush().await?;
        sqlx::query(&format!(
            "SELECT {LOG_COLUMNS} FROM log_events WHERE jti = $1 ORDER BY date, id LIMIT 1"
        ))
        .bind(jti)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(log_from_row)
        .transpose()
    }

    async fn log_event(&self, log_id: &str) -> StoreResult<Option<LogEvent>> {
        self.logs.flush().await?;
        sqlx::query(&format!(
            "SELECT {LOG_COLUMNS} FROM log_events WHERE id = $1"
        ))
        .bind(log_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(log_from_row)
        .transpose()
    }
}
