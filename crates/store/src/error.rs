//! Storage errors.
//!
//! Callers branch on [`StoreError::NotFound`] and [`StoreError::Conflict`];
//! everything else is an internal failure that the HTTP layer logs and renders
//! as a generic server error, never with its text.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated (duplicate email, identifier, grant…).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored document could not be decoded: a bug or a manual edit.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: String,
        source: sqlx::Error,
    },
    #[error("unsupported database URL (use sqlite:… or postgres://…): {0}")]
    UnsupportedUrl(String),
}

impl StoreError {
    /// Maps unique-violation errors of both backends to [`StoreError::Conflict`].
    pub(crate) fn from_write(err: sqlx::Error, what: &str) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                return StoreError::Conflict(what.to_string());
            }
        }
        StoreError::Database(err)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
