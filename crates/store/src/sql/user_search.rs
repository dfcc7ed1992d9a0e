//! The user search compiled to SQL, and the columns it reads.
//!
//! Only fixed column names, operators and `$n` placeholders go into the SQL
//! text; every value from the query is bound. Text compares on the `*_norm`
//! columns, which hold the value lowercased in Rust (the same on both
//! backends), against a value lowercased the same way.

use super::bulk::Value;
use super::{bool_int, Backend};
use crate::error::StoreResult;
use crate::UserSearch;
use gatehouse_core::model::User;
use gatehouse_core::user_query::{escape_like, prefix_upper_bound, Field, SortKey, Term, UserSort};
use sqlx::Row;

/// The search columns of a user, as written on every insert and update.
pub(crate) struct SearchColumns {
    pub email_norm: Option<String>,
    pub name_norm: Option<String>,
    pub nickname_norm: Option<String>,
    pub given_name_norm: Option<String>,
    pub family_name_norm: Option<String>,
    pub email_verified: i64,
    pub last_login: Option<i64>,
    pub logins_count: i64,
}

fn lower(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::to_lowercase)
}

impl SearchColumns {
    pub fn of(user: &User) -> Self {
        Self {
            email_norm: lower(&user.email),
            name_norm: lower(&user.name),
            nickname_norm: lower(&user.nickname),
            given_name_norm: lower(&user.given_name),
            family_name_norm: lower(&user.family_name),
            email_verified: bool_int(user.email_verified),
            last_login: user.last_login,
            logins_count: user.logins_count,
        }
    }

    /// The column names, in the order of [`SearchColumns::values`].
    pub const NAMES: [&'static str; 8] = [
        "email_norm",
        "name_norm",
        "nickname_norm",
        "given_name_norm",
        "family_name_norm",
        "email_verified",
        "last_login",
        "logins_count",
    ];

    /// The values, in the order of [`SearchColumns::NAMES`].
    pub fn values(self) -> [Value; 8] {
        [
            Value::Text(self.email_norm),
            Value::Text(self.name_norm),
            Value::Text(self.nickname_norm),
            Value::Text(self.given_name_norm),
            Value::Text(self.family_name_norm),
            Value::Int(Some(self.email_verified)),
            Value::Int(self.last_login),
            Value::Int(Some(self.logins_count)),
        ]
    }
}

/// `SET` list of [`SearchColumns`], starting at placeholder `$first`.
pub(crate) fn set_search_columns(first: usize) -> String {
    SearchColumns::NAMES
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = ${}", first + i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds [`SearchColumns`] in the order of [`set_search_columns`].
pub(crate) fn bind_search_columns<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    columns: SearchColumns,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    columns.values().into_iter().fold(query, Value::bind_to)
}

/// Fills the search columns of every user from its body (migration
/// `0011_user_search`; lowercasing is Rust's, not the database's).
pub(crate) async fn backfill_search_columns(conn: &mut sqlx::AnyConnection) -> StoreResult<()> {
    let rows = sqlx::query("SELECT user_id, body FROM users")
        .fetch_all(&mut *conn)
        .await?;
    let sql = format!(
        "UPDATE users SET {} WHERE user_id = $9",
        set_search_columns(1)
    );
    for row in &rows {
        let user: User = super::body(row)?;
        let user_id: String = row.try_get("user_id")?;
        bind_search_columns(sqlx::query(&sql), SearchColumns::of(&user))
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The lowercased column a text field compares on.
fn text_column(field: Field) -> &'static str {
    match field {
        Field::Email => "email_norm",
        Field::Name => "name_norm",
        Field::Nickname => "nickname_norm",
        Field::GivenName => "given_name_norm",
        Field::FamilyName => "family_name_norm",
        // Identifiers: ASCII, so the database's LOWER agrees with Rust's.
        Field::UserId => "LOWER(user_id)",
        Field::Connection => "LOWER(connection)",
        Field::EmailVerified => "email_verified",
        Field::Blocked => "blocked",
    }
}

/// The columns a bare word is looked for in.
const TEXT_SEARCH_COLUMNS: [&str; 4] =
    ["email_norm", "name_norm", "nickname_norm", "LOWER(user_id)"];

/// Always false: a term no user can match.
const NOTHING: &str = "1 = 0";

enum Bind {
    Text(String),
    Int(i64),
}

/// A search's `WHERE` clause and its bound values.
pub(crate) struct UserSql {
    conditions: Vec<String>,
    binds: Vec<Bind>,
}

impl UserSql {
    pub fn filtered(search: &UserSearch) -> Self {
        let mut sql = Self {
            conditions: Vec::new(),
            binds: Vec::new(),
        };
        if let Some(connection) = &search.connection {
            let at = sql.bind(Bind::Text(connection.clone()));
            sql.conditions.push(format!("connection = ${at}"));
        }
        for term in &search.terms {
            if let Some(condition) = sql.term(term) {
                sql.conditions.push(condition);
            }
        }
        sql
    }

    fn bind(&mut self, value: Bind) -> usize {
        self.binds.push(value);
        self.binds.len()
    }

    /// The condition of one term; `None` when it matches every user.
    fn term(&mut self, term: &Term) -> Option<String> {
        match term {
            Term::Exact(field, value) if field.is_boolean() => {
                boolean_condition(*field, |text| text == value.to_lowercase())
            }
            Term::Prefix(field, prefix) if field.is_boolean() => {
                boolean_condition(*field, |text| text.starts_with(&prefix.to_lowercase()))
            }
            Term::Exact(field, value) => {
                let at = self.bind(Bind::Text(value.to_lowercase()));
                Some(format!("{} = ${at}", text_column(*field)))
            }
            Term::Prefix(field, prefix) => Some(self.prefix(*field, &prefix.to_lowercase())),
            Term::Text(text) => {
                let at = self.bind(Bind::Text(format!(
                    "%{}%",
                    escape_like(&text.to_lowercase())
                )));
                let any: Vec<String> = TEXT_SEARCH_COLUMNS
                    .iter()
                    .map(|column| format!("{column} LIKE ${at} ESCAPE '\\'"))
                    .collect();
                Some(format!("({})", any.join(" OR ")))
            }
        }
    }

    /// `LIKE 'prefix%'`, and for a stored column also the range of strings
    /// starting with the prefix: the range is what lets both backends walk
    /// an index (SQLite does not for `LIKE … ESCAPE` on a BINARY column).
    fn prefix(&mut self, field: Field, prefix: &str) -> String {
        let column = text_column(field);
        let at = self.bind(Bind::Text(format!("{}%", escape_like(prefix))));
        let like = format!("{column} LIKE ${at} ESCAPE '\\'");
        if column.contains('(') || prefix.is_empty() {
            return like;
        }
        let from = self.bind(Bind::Text(prefix.to_string()));
        let mut range = format!("{column} >= ${from}");
        if let Some(bound) = prefix_upper_bound(prefix) {
            let to = self.bind(Bind::Text(bound));
            range.push_str(&format!(" AND {column} < ${to}"));
        }
        format!("{range} AND {like}")
    }

    pub fn where_clause(&self) -> String {
        if self.conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conditions.join(" AND "))
        }
    }

    /// `ORDER BY` and the page window, its values bound after the filter's.
    pub fn order_and_page(&mut self, search: &UserSearch, backend: Backend) -> String {
        let order = order_by(search.sort, backend);
        let limit = self.bind(Bind::Int(search.page.limit));
        let offset = self.bind(Bind::Int(search.page.offset));
        format!(" ORDER BY {order} LIMIT ${limit} OFFSET ${offset}")
    }

    pub fn query<'q>(
        &'q self,
        text: &'q str,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        self.binds
            .iter()
            .fold(sqlx::query(text), |query, value| match value {
                Bind::Text(text) => query.bind(text.as_str()),
                Bind::Int(number) => query.bind(*number),
            })
    }
}

/// A boolean field matched as the text `true`/`false`: decided here, so the
/// SQL only compares the 0/1 column with a constant.
fn boolean_condition(field: Field, matches: impl Fn(&str) -> bool) -> Option<String> {
    let column = text_column(field);
    match (matches("true"), matches("false")) {
        (true, true) => None,
        (true, false) => Some(format!("{column} = 1")),
        (false, true) => Some(format!("{column} = 0")),
        (false, false) => Some(NOTHING.to_string()),
    }
}

fn sort_column(key: SortKey) -> &'static str {
    match key {
        SortKey::Text(Field::UserId) => "user_id",
        SortKey::Text(field) => text_column(field),
        SortKey::CreatedAt => "created_at",
        SortKey::UpdatedAt => "updated_at",
        SortKey::LastLogin => "last_login",
        SortKey::LoginsCount => "logins_count",
    }
}

/// The sort, then `user_id` in the same direction, so pages never overlap.
/// A missing value sorts first ascending, last descending, on both backends
/// (SQLite's own order; PostgreSQL's indexes are declared NULLS FIRST).
pub(crate) fn order_by(sort: Option<UserSort>, backend: Backend) -> String {
    let Some(sort) = sort else {
        return "created_at, user_id".into();
    };
    let column = sort_column(sort.key);
    let (direction, nulls) = if sort.descending {
        ("DESC", "NULLS LAST")
    } else {
        ("ASC", "NULLS FIRST")
    };
    // SQLite orders NULLs this way already, and writing it out could cost it
    // the index.
    let nulls = match backend {
        Backend::Sqlite => "".to_string(),
        Backend::Postgres => format!(" {nulls}"),
    };
    if column == "user_id" {
        format!("user_id {direction}")
    } else {
        format!("{column} {direction}{nulls}, user_id {direction}")
    }
}
