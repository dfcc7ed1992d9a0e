//! Multi-row `INSERT`s for imports: many rows per statement, all statements
//! in the caller's transaction, so 100,000 rows cost a few hundred round
//! trips instead of 100,000 commits.

use crate::error::{StoreError, StoreResult};

/// One bound value of a row.
pub(crate) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Value {
    /// `query` with this value bound to its next placeholder.
    pub(crate) fn bind_to<'q>(
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        value: Self,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        match value {
            Value::Text(text) => query.bind(text),
            Value::Int(number) => query.bind(number),
        }
    }
}

/// At most this many placeholders per statement. Binding is quadratic in
/// the placeholders of one statement on SQLite (each `$N` is looked up by a
/// linear scan of the statement's names): at 4,000 a batch of log events
/// spent a third of the server's CPU in `sqlite3_bind_parameter_name`. A few
/// hundred keep that negligible and still make 100,000 rows a few thousand
/// statements in one transaction.
const MAX_BINDS: usize = 512;

/// The `suffix` that skips rows whose key is taken (both backends).
pub(crate) const IGNORE_DUPLICATES: &str = " ON CONFLICT DO NOTHING";

/// Inserts `rows` into `table (columns…)` with as many rows per statement as
/// [`MAX_BINDS`] allows, each statement ending in `suffix`. A duplicate key
/// is [`StoreError::Conflict`] unless the suffix skips it.
pub(crate) async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    suffix: &str,
) -> StoreResult<()> {
    let per_statement = (MAX_BINDS / columns.len()).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
        let sql = statement(table, columns, chunk.len()) + suffix;
        let query = chunk
            .into_iter()
            .flatten()
            .fold(sqlx::query(&sql), Value::bind_to);
        query
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::from_write(e, table))?;
    }
    Ok(())
}

/// `INSERT INTO table (a, b) VALUES ($1, $2), ($3, $4), …` for `rows` rows.
fn statement(table: &str, columns: &[&str], rows: usize) -> String {
    let width = columns.len();
    let tuples: Vec<String> = (0..rows)
        .map(|row| {
            let placeholders: Vec<String> = (1..=width)
                .map(|column| format!("${}", row * width + column))
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        tuples.join(", ")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(
            super::statement("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
