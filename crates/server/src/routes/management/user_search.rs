//! `GET /api/v2/users?q=…&sort=…`: a practical subset of Auth0's Lucene-like
//! user search (search_engine v3).
//!
//! - Terms are separated by spaces (outside quotes) and all must match;
//!   `AND` between terms is accepted and ignored.
//! - `field:value` on `email`, `name`, `nickname`, `user_id`, `given_name`,
//!   `family_name`, `connection` / `identities.connection`, `email_verified`,
//!   `blocked`; `"quoted"` values match exactly, a trailing `*` is a prefix
//!   match, otherwise the value matches exactly. Text compares case-insensitively.
//! - A bare word matches as a substring of the email, name, nickname or user_id.
//! - Anything else (`OR`, ranges, other fields) is a 400 naming it, never a
//!   silent mismatch.
//!
//! `sort=field:1|-1` orders by `email`, `name`, `nickname`, `user_id`,
//! `created_at`, `updated_at`, `last_login` or `logins_count`.

use super::error::{ManagementError, MgmtResult};
use gatehouse_core::model::User;
use std::cmp::Ordering;

/// One condition of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// `field:value`, exact (case-insensitive for text).
    Exact(Field, String),
    /// `field:value*`.
    Prefix(Field, String),
    /// A bare word.
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Email,
    Name,
    Nickname,
    UserId,
    GivenName,
    FamilyName,
    Connection,
    EmailVerified,
    Blocked,
}

impl Field {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "email" => Self::Email,
            "name" => Self::Name,
            "nickname" => Self::Nickname,
            "user_id" => Self::UserId,
            "given_name" => Self::GivenName,
            "family_name" => Self::FamilyName,
            "connection" | "identities.connection" => Self::Connection,
            "email_verified" => Self::EmailVerified,
            "blocked" => Self::Blocked,
            _ => return None,
        })
    }

    fn value(self, u: &User) -> Option<String> {
        match self {
            Self::Email => u.email.clone(),
            Self::Name => u.name.clone(),
            Self::Nickname => u.nickname.clone(),
            Self::UserId => Some(u.user_id.clone()),
            Self::GivenName => u.given_name.clone(),
            Self::FamilyName => u.family_name.clone(),
            Self::Connection => Some(u.connection.clone()),
            Self::EmailVerified => Some(u.email_verified.to_string()),
            Self::Blocked => Some(u.blocked.to_string()),
        }
    }
}

fn bad_query(detail: impl std::fmt::Display) -> ManagementError {
    ManagementError::invalid_query(format!("Query validation error: 'q' {detail}."))
}

/// Splits on spaces outside double quotes.
fn words(q: &str) -> MgmtResult<Vec<String>> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err(bad_query("has an unterminated quote"));
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// Parses `q` into terms that must all match.
pub fn parse(q: &str) -> MgmtResult<Vec<Term>> {
    let mut terms = Vec::new();
    for word in words(q)? {
        if word == "AND" {
            continue;
        }
        if word == "OR" || word == "NOT" || word.starts_with('(') || word.starts_with('[') {
            return Err(bad_query(format!("uses unsupported syntax {word:?}")));
        }
        match word.split_once(':') {
            Some((name, value)) if !name.starts_with('"') => {
                let field = Field::parse(name)
                    .ok_or_else(|| bad_query(format!("cannot search on field {name:?}")))?;
                if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    terms.push(Term::Exact(field, inner.to_string()));
                } else if let Some(prefix) = value.strip_suffix('*') {
                    if prefix.contains('*') {
                        return Err(bad_query("supports '*' only at the end of a value"));
                    }
                    terms.push(Term::Prefix(field, prefix.to_string()));
                } else if value.is_empty() || value.contains('"') || value.contains('*') {
                    return Err(bad_query(format!("has an invalid value for {name:?}")));
                } else {
                    terms.push(Term::Exact(field, value.to_string()));
                }
            }
            _ => {
                let text = word.trim_matches('"').trim_end_matches('*');
                if !text.is_empty() {
                    terms.push(Term::Text(text.to_lowercase()));
                }
            }
        }
    }
    Ok(terms)
}

/// True when `user` satisfies every term.
pub fn matches(terms: &[Term], user: &User) -> bool {
    terms.iter().all(|term| match term {
        Term::Exact(field, value) => field
            .value(user)
            .is_some_and(|v| v.to_lowercase() == value.to_lowercase()),
        Term::Prefix(field, prefix) => field
            .value(user)
            .is_some_and(|v| v.to_lowercase().starts_with(&prefix.to_lowercase())),
        Term::Text(text) => [
            user.email.as_deref(),
            user.name.as_deref(),
            user.nickname.as_deref(),
            Some(user.user_id.as_str()),
        ]
        .iter()
        .flatten()
        .any(|v| v.to_lowercase().contains(text)),
    })
}

/// A parsed `sort` parameter.
pub struct Sort {
    key: SortKey,
    descending: bool,
}

enum SortKey {
    Text(Field),
    CreatedAt,
    UpdatedAt,
    LastLogin,
    LoginsCount,
}

impl Sort {
    pub fn parse(sort: &str) -> MgmtResult<Self> {
        let bad = || {
            ManagementError::invalid_query(format!(
                "Query validation error: 'sort' must be <field>:1 or <field>:-1, not {sort:?}."
            ))
        };
        let (name, order) = sort.split_once(':').ok_or_else(bad)?;
        let descending = match order {
            "1" => false,
            "-1" => true,
            _ => return Err(bad()),
        };
        let key = match name {
            "email" => SortKey::Text(Field::Email),
            "name" => SortKey::Text(Field::Name),
            "nickname" => SortKey::Text(Field::Nickname),
            "user_id" => SortKey::Text(Field::UserId),
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            "last_login" => SortKey::LastLogin,
            "logins_count" => SortKey::LoginsCount,
            _ => return Err(bad()),
        };
        Ok(Self { key, descending })
    }

    pub fn compare(&self, a: &User, b: &User) -> Ordering {
        let ord = match &self.key {
            SortKey::Text(f) => f.value(a).cmp(&f.value(b)),
            SortKey::CreatedAt => a.created_at.cmp(&b.created_at),
            SortKey::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            SortKey::LastLogin => a.last_login.cmp(&b.last_login),
            SortKey::LoginsCount => a.logins_count.cmp(&b.logins_count),
        };
        if self.descending {
            ord.reverse()
        } else {
            ord
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(email: &str, name: &str) -> User {
        let mut u = User::new("auth0|0123456789abcdef01234567", email, 0);
        u.name = Some(name.into());
        u
    }

    #[test]
    fn parses_and_matches() {
        let alice = user("alice@example.com", "Alice Liddell");
        let q = |s: &str| parse(s).unwrap();
        assert!(matches(&q(r#"email:"alice@example.com""#), &alice));
        assert!(matches(&q("email:ALICE@example.com"), &alice));
        assert!(matches(&q("email:ali*"), &alice));
        assert!(!matches(&q("email:bob*"), &alice));
        assert!(matches(&q(r#"name:"Alice Liddell""#), &alice));
        assert!(matches(&q("liddell"), &alice));
        assert!(matches(&q("user_id:auth0|0123*"), &alice));
        assert!(matches(&q("email:ali* AND blocked:false"), &alice));
        assert!(matches(
            &q("identities.connection:Username-Password-Authentication"),
            &alice
        ));
        assert!(matches(&q(""), &alice));
        assert!(parse("foo:bar").is_err());
        assert!(parse("a OR b").is_err());
        assert!(parse(r#"email:"x"#).is_err());
        assert!(parse("email:a*b*").is_err());
        assert!(parse("email:").is_err());
    }

    #[test]
    fn sorts() {
        let a = user("a@x", "A");
        let b = user("b@x", "B");
        assert_eq!(
            Sort::parse("email:1").unwrap().compare(&a, &b),
            Ordering::Less
        );
        assert_eq!(
            Sort::parse("email:-1").unwrap().compare(&a, &b),
            Ordering::Greater
        );
        assert!(Sort::parse("email").is_err());
        assert!(Sort::parse("bogus:1").is_err());
        assert!(Sort::parse("email:2").is_err());
    }
}
