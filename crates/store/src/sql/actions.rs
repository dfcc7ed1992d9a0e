//! Actions, the ordered bindings of each trigger (its flow) and executions.
//!
//! An Action is stored as one JSON document next to its unique name; a
//! binding's place in the flow is its `position`.

use super::{body, expect_one, from_json, to_json, SqlStore};
use crate::error::{StoreError, StoreResult};
use crate::{ActionBinding, ActionExecution, ActionStore, Page, StoredAction};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::Row;

fn binding_from_row(row: &AnyRow) -> StoreResult<ActionBinding> {
    Ok(ActionBinding {
        id: row.try_get("id")?,
        trigger_id: row.try_get("trigger_id")?,
        action_id: row.try_get("action_id")?,
        display_name: row.try_get("display_name")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn execution_from_row(row: &AnyRow) -> StoreResult<ActionExecution> {
    Ok(ActionExecution {
        id: row.try_get("id")?,
        trigger_id: row.try_get("trigger_id")?,
        status: row.try_get("status")?,
        results: from_json(&row.try_get::<String, _>("results")?)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A binding that names a missing Action is the caller's mistake, not a fault.
fn binding_write_error(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.is_foreign_key_violation() {
            return StoreError::NotFound;
        }
    }
    StoreError::from_write(err, "binding id")
}

#[async_trait]
impl ActionStore for SqlStore {
    async fn create_action(&self, action: &StoredAction) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO actions (id, name, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&action.id)
        .bind(&action.name)
        .bind(to_json(action))
        .bind(action.created_at)
        .bind(action.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "action name"))?;
        Ok(())
    }

    async fn action(&self, id: &str) -> StoreResult<Option<StoredAction>> {
        sqlx::query("SELECT body FROM actions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(body)
            .transpose()
    }

    async fn update_action(&self, action: &StoredAction) -> StoreResult<()> {
        let result =
            sqlx::query("UPDATE actions SET name = $1, body = $2, updated_at = $3 WHERE id = $4")
                .bind(&action.name)
                .bind(to_json(action))
                .bind(action.updated_at)
                .bind(&action.id)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::from_write(e, "action name"))?;
        expect_one(result)
    }

    async fn delete_action(&self, id: &str) -> StoreResult<()> {
        // The bindings go with it (ON DELETE CASCADE).
        let result = sqlx::query("DELETE FROM actions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        expect_one(result)
    }

    async fn actions(&self, page: Page) -> StoreResult<Vec<StoredAction>> {
        sqlx::query("SELECT body FROM actions ORDER BY created_at, id LIMIT $1 OFFSET $2")
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(body)
            .collect()
    }

    async fn trigger_bindings(&self, trigger_id: &str) -> StoreResult<Vec<ActionBinding>> {
        sqlx::query(
            "SELECT id, trigger_id, action_id, display_name, created_at, updated_at \
             FROM action_bindings WHERE trigger_id = $1 ORDER BY position",
        )
        .bind(trigger_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(binding_from_row)
        .collect()
    }

    async fn replace_trigger_bindings(
        &self,
        trigger_id: &str,
        bindings: &[ActionBinding],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM action_bindings WHERE trigger_id = $1")
            .bind(trigger_id)
            .execute(&mut *tx)
            .await?;
        for (position, binding) in bindings.iter().enumerate() {
            sqlx::query(
                "INSERT INTO action_bindings \
                 (id, trigger_id, position, action_id, display_name, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&binding.id)
            .bind(trigger_id)
            .bind(position as i64)
            .bind(&binding.action_id)
            .bind(&binding.display_name)
            .bind(binding.created_at)
            .bind(binding.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(binding_write_error)?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn action_flow(
        &self,
        trigger_id: &str,
    ) -> StoreResult<Vec<(ActionBinding, StoredAction)>> {
        sqlx::query(
            "SELECT b.id, b.trigger_id, b.action_id, b.display_name, b.created_at, b.updated_at, \
             a.body FROM action_bindings b JOIN actions a ON a.id = b.action_id \
             WHERE b.trigger_id = $1 ORDER BY b.position",
        )
        .bind(trigger_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((binding_from_row(row)?, body(row)?)))
        .collect()
    }

    async fn insert_action_execution(&self, execution: &ActionExecution) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO action_executions (id, trigger_id, status, results, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&execution.id)
        .bind(&execution.trigger_id)
        .bind(&execution.status)
        .bind(to_json(&execution.results))
        .bind(execution.created_at)
        .bind(execution.updated_at)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "execution id"))?;
        Ok(())
    }

    async fn action_execution(&self, id: &str) -> StoreResult<Option<ActionExecution>> {
        sqlx::query(
            "SELECT id, trigger_id, status, results, created_at, updated_at \
             FROM action_executions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(execution_from_row)
        .transpose()
    }
}
