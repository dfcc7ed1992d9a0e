//! The `q` and `sort` of `GET /api/v2/users`: a practical subset of Auth0's
//! Lucene-like user search (search_engine v3), parsed into terms the store
//! compiles to SQL.
//!
//! - Terms are separated by spaces (outside quotes) and all must match;
//!   `AND` between terms is accepted and ignored.
//! - `field:value` on `email`, `name`, `nickname`, `user_id`, `given_name`,
//!   `family_name`, `connection` / `identities.connection`, `email_verified`,
//!   `blocked`; `"quoted"` values match exactly, a trailing `*` is a prefix
//!   match, otherwise the value matches exactly. Text compares case-insensitively.
//! - A bare word matches as a substring of the email, name, nickname or user_id.
//! - Anything else (`OR`, ranges, other fields) is an error naming it, never a
//!   silent mismatch.
//!
//! `sort=field:1|-1` orders by `email`, `name`, `nickname`, `user_id`,
//! `created_at`, `updated_at`, `last_login` or `logins_count`.

/// One condition of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// `field:value`, exact (case-insensitive for text).
    Exact(Field, String),
    /// `field:value*`.
    Prefix(Field, String),
    /// A bare word, lowercased.
    Text(String),
}

/// The user fields a term can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `email`.
    Email,
    /// `name`.
    Name,
    /// `nickname`.
    Nickname,
    /// `user_id`.
    UserId,
    /// `given_name`.
    GivenName,
    /// `family_name`.
    FamilyName,
    /// `connection` or `identities.connection`.
    Connection,
    /// `email_verified` (`true` or `false`).
    EmailVerified,
    /// `blocked` (`true` or `false`).
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

    /// True for the fields holding a boolean, which match the text `true`
    /// or `false`.
    pub fn is_boolean(self) -> bool {
        matches!(self, Self::EmailVerified | Self::Blocked)
    }
}

/// Why a `q` or `sort` was refused: the whole 400 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UserQueryError(pub String);

/// The most terms a query may have (far more than any search needs).
pub const MAX_TERMS: usize = 32;

fn bad_query(detail: impl std::fmt::Display) -> UserQueryError {
    UserQueryError(format!("Query validation error: 'q' {detail}."))
}

/// Splits on spaces outside double quotes.
fn words(q: &str) -> Result<Vec<String>, UserQueryError> {
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

/// Parses `q` into terms that must all match; a blank `q` matches everyone.
pub fn parse_user_query(q: &str) -> Result<Vec<Term>, UserQueryError> {
    let mut terms = Vec::new();
    let words = words(q)?;
    // Each term is a condition of the SQL: thousands of them exceed
    // SQLite's expression depth and keep PostgreSQL planning for seconds.
    if words.len() > MAX_TERMS {
        return Err(bad_query(format!("has more than {MAX_TERMS} terms")));
    }
    for word in words {
        if word == "AND" {
            continue;
        }
        if word == "OR" || word == "NOT" || word.starts_with('(') || word.starts_with('[') {
            return Err(bad_query(format!("uses unsupported syntax {word:?}")));
        }
        match word.split_once(':') {
            Some((name, value)) if !name.starts_with('"') => {
                terms.push(field_term(name, value)?);
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

fn field_term(name: &str, value: &str) -> Result<Term, UserQueryError> {
    let field =
        Field::parse(name).ok_or_else(|| bad_query(format!("cannot search on field {name:?}")))?;
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return Ok(Term::Exact(field, inner.to_string()));
    }
    if let Some(prefix) = value.strip_suffix('*') {
        if prefix.contains('*') {
            return Err(bad_query("supports '*' only at the end of a value"));
        }
        return Ok(Term::Prefix(field, prefix.to_string()));
    }
    if value.is_empty() || value.contains('"') || value.contains('*') {
        return Err(bad_query(format!("has an invalid value for {name:?}")));
    }
    Ok(Term::Exact(field, value.to_string()))
}

/// What `sort` orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// A text field (case-insensitively): email, name, nickname or user_id.
    Text(Field),
    /// `created_at`.
    CreatedAt,
    /// `updated_at`.
    UpdatedAt,
    /// `last_login`; users who never logged in come first ascending.
    LastLogin,
    /// `logins_count`.
    LoginsCount,
}

/// A parsed `sort` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserSort {
    /// The field.
    pub key: SortKey,
    /// `:-1`.
    pub descending: bool,
}

impl UserSort {
    /// Parses `field:1` or `field:-1`.
    pub fn parse(sort: &str) -> Result<Self, UserQueryError> {
        let bad = || {
            UserQueryError(format!(
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
}

/// Escapes `%`, `_` and `\` so `text` matches itself in `LIKE … ESCAPE '\'`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The least string above every string that starts with `prefix`, in code
/// point order (UTF-8 byte order, as SQLite's BINARY and PostgreSQL's "C"
/// collations compare): `prefix` with its last character incremented. `None`
/// when there is none (an empty prefix, or only `char::MAX`).
pub fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Vec<Term> {
        parse_user_query(s).unwrap()
    }

    #[test]
    fn a_query_has_at_most_max_terms() {
        let most = vec!["a"; MAX_TERMS].join(" ");
        assert_eq!(q(&most).len(), MAX_TERMS);
        let too_many = format!("{most} b");
        let err = parse_user_query(&too_many).unwrap_err();
        assert!(err.0.contains("more than 32 terms"), "{err}");
    }

    #[test]
    fn parses_each_term_kind() {
        assert_eq!(
            q(r#"email:"alice@example.com""#),
            [Term::Exact(Field::Email, "alice@example.com".into())]
        );
        assert_eq!(
            q("email:ALICE@example.com"),
            [Term::Exact(Field::Email, "ALICE@example.com".into())]
        );
        assert_eq!(q("email:ali*"), [Term::Prefix(Field::Email, "ali".into())]);
        assert_eq!(
            q(r#"name:"Alice Liddell""#),
            [Term::Exact(Field::Name, "Alice Liddell".into())]
        );
        assert_eq!(q("Liddell"), [Term::Text("liddell".into())]);
        assert_eq!(
            q("email:ali* AND blocked:false"),
            [
                Term::Prefix(Field::Email, "ali".into()),
                Term::Exact(Field::Blocked, "false".into())
            ]
        );
        assert_eq!(
            q("identities.connection:Username-Password-Authentication"),
            [Term::Exact(
                Field::Connection,
                "Username-Password-Authentication".into()
            )]
        );
        assert_eq!(q(""), []);
        assert_eq!(q("  AND  "), []);
    }

    #[test]
    fn refuses_what_it_cannot_answer() {
        let message = |s: &str| parse_user_query(s).unwrap_err().0;
        assert_eq!(
            message("foo:bar"),
            "Query validation error: 'q' cannot search on field \"foo\"."
        );
        assert_eq!(
            message("a OR b"),
            "Query validation error: 'q' uses unsupported syntax \"OR\"."
        );
        assert_eq!(
            message(r#"email:"x"#),
            "Query validation error: 'q' has an unterminated quote."
        );
        assert!(parse_user_query("email:a*b*").is_err());
        assert!(parse_user_query("email:").is_err());
        assert!(parse_user_query("(a").is_err());
    }

    #[test]
    fn parses_sorts() {
        assert_eq!(
            UserSort::parse("email:1").unwrap(),
            UserSort {
                key: SortKey::Text(Field::Email),
                descending: false
            }
        );
        assert!(UserSort::parse("logins_count:-1").unwrap().descending);
        assert!(UserSort::parse("email").is_err());
        assert!(UserSort::parse("bogus:1").is_err());
        assert!(UserSort::parse("email:2").is_err());
    }

    #[test]
    fn bounds_prefixes_from_above() {
        assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_upper_bound("a%").as_deref(), Some("a&"));
        assert_eq!(prefix_upper_bound("\u{d7ff}").as_deref(), Some("\u{e000}"));
        let max = char::MAX.to_string();
        assert_eq!(prefix_upper_bound(&format!("a{max}")).as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound(&max), None);
        assert_eq!(prefix_upper_bound(""), None);
        for (prefix, inside) in [("ab", "abzzz"), ("é", "é\u{10ffff}")] {
            let bound = prefix_upper_bound(prefix).unwrap();
            assert!(prefix < inside && inside < bound.as_str());
        }
    }

    #[test]
    fn escapes_like_wildcards() {
        assert_eq!(escape_like(r"a%b_c\d"), r"a\%b\_c\\d");
        assert_eq!(escape_like("plain"), "plain");
    }
}
