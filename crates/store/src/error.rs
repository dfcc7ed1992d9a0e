//! Storage errors.
//!
//! Callers branch on [`StoreError::NotFound`], [`StoreError::Conflict`] and
//! [`StoreError::InvalidText`] (the caller's input, not a fault); everything
//! else is an internal failure that the HTTP layer logs and renders
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
    /// Text PostgreSQL cannot store or compare (a NUL character): the
    /// caller's input is at fault, and no row can match it.
    #[error("text with a NUL character")]
    InvalidText,
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: String,
        source: sqlx::Error,
    },
    #[error("unsupported database URL (use sqlite:… or postgres://…): {0}")]
    UnsupportedUrl(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        // SQLSTATE 22021 character_not_in_repertoire: PostgreSQL's answer to
        // a NUL byte in a text parameter (SQLite stores it).
        if let sqlx::Error::Database(db) = &err {
            if db.code().as_deref() == Some("22021") {
                return StoreError::InvalidText;
            }
        }
        StoreError::Database(err)
    }
}

impl StoreError {
    /// Maps unique-violation errors of both backends to [`StoreError::Conflict`].
    pub(crate) fn from_write(err: sqlx::Error, what: &str) -> Self {
        if let sqlx::Error::Database(db) = &err {
            if db.is_unique_violation() {
                return StoreError::Conflict(what.to_string());
            }
        }
        err.into()
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
