//! The `q` of `GET /api/v2/logs`: the subset of Auth0's Lucene log search
//! syntax Gatehouse answers, parsed into a [`LogFilter`].
//!
//! Supported: `type:X`, `client_id:X`, `user_id:X` (values bare or quoted
//! `"…"`), `date:[A TO B]` (ISO 8601 dates or datetimes, `*` for an open end,
//! both ends inclusive) and `date:D` (that day or that second), joined by
//! spaces or ` AND `. Anything else (free text, `OR`, `NOT`, parentheses,
//! other fields, wildcards, exclusive ranges) is an error that says what was
//! wrong, so a caller never gets a silently different search.

use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

/// The longest `q` accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024;

/// Which log events a search matches; every field set must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Auth0's event code, e.g. `seccft`.
    pub event_type: Option<String>,
    /// The application the event is about.
    pub client_id: Option<String>,
    /// The user the event is about.
    pub user_id: Option<String>,
    /// Inclusive lower bound, epoch seconds.
    pub date_from: Option<i64>,
    /// Inclusive upper bound, epoch seconds.
    pub date_to: Option<i64>,
}

/// Why a `q` was refused; the message names the offending part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LogQueryError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, LogQueryError> {
    Err(LogQueryError(message.into()))
}

/// The fields `q` may name.
const FIELDS: &str = "type, client_id, user_id or date";

/// Parses `q`; an empty or blank `q` matches everything.
pub fn parse_log_query(q: &str) -> Result<LogFilter, LogQueryError> {
    if q.len() > MAX_QUERY_BYTES {
        return fail(format!(
            "The query is too long: at most {MAX_QUERY_BYTES} bytes."
        ));
    }
    if q.chars().any(char::is_control) {
        return fail("The query contains a control character.");
    }
    let mut cursor = Cursor::new(q);
    let mut filter = LogFilter::default();
    let mut seen: Vec<&str> = Vec::new();
    cursor.skip_spaces();
    while !cursor.at_end() {
        let (field, value) = term(&mut cursor)?;
        if seen.contains(&field.name()) {
            return fail(format!(
                "The field '{}' appears more than once.",
                field.name()
            ));
        }
        seen.push(field.name());
        apply(&mut filter, field, value)?;
        let separated = cursor.skip_spaces();
        if cursor.at_end() {
            break;
        }
        if !separated {
            return fail(format!(
                "Expected a space after a term at position {}.",
                cursor.pos
            ));
        }
        operator(&mut cursor)?;
    }
    Ok(filter)
}

/// After a term and its spaces: an optional `AND`; `OR` and `NOT` are refused.
fn operator(cursor: &mut Cursor) -> Result<(), LogQueryError> {
    let word = cursor.peek_word();
    match word.as_str() {
        "AND" => {
            cursor.advance(word.chars().count());
            if !cursor.skip_spaces() || cursor.at_end() {
                return fail("'AND' must be followed by a space and a term.");
            }
            Ok(())
        }
        "OR" | "NOT" | "||" | "&&" | "!" => fail(format!(
            "The operator '{word}' is not supported: terms can only be joined by AND."
        )),
        _ => Ok(()),
    }
}

/// The value of one `field:value` term.
enum Value {
    Text(String),
    Range(Option<i64>, Option<i64>),
}

#[derive(Clone, Copy)]
enum Field {
    Type,
    ClientId,
    UserId,
    Date,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Self::Type => "type",
            Self::ClientId => "client_id",
            Self::UserId => "user_id",
            Self::Date => "date",
        }
    }
}

fn term(cursor: &mut Cursor) -> Result<(Field, Value), LogQueryError> {
    let start = cursor.pos;
    let name = cursor.take_while(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    match cursor.peek() {
        Some(':') if !name.is_empty() => cursor.advance(1),
        Some('(') | Some(')') => return fail("Parentheses are not supported in the query."),
        _ => {
            let word = cursor.peek_word_from(start);
            return fail(format!(
                "Expected field:value at position {start}, found '{word}': free-text search is \
                 not supported; use {FIELDS}."
            ));
        }
    }
    let field = match name.as_str() {
        "type" => Field::Type,
        "client_id" => Field::ClientId,
        "user_id" => Field::UserId,
        "date" => Field::Date,
        other => {
            return fail(format!(
                "The field '{other}' is not supported in the query; use {FIELDS}."
            ))
        }
    };
    let value = match field {
        Field::Date => date_value(cursor)?,
        _ => Value::Text(text_value(cursor, field)?),
    };
    Ok((field, value))
}

fn text_value(cursor: &mut Cursor, field: Field) -> Result<String, LogQueryError> {
    let name = field.name();
    let value = match cursor.peek() {
        Some('"') => quoted(cursor)?,
        Some('[') | Some('{') => {
            return fail(format!(
                "Ranges are only supported for date, not for '{name}'."
            ))
        }
        _ => bare(cursor, name)?,
    };
    if value.is_empty() {
        return fail(format!("The field '{name}' has no value."));
    }
    Ok(value)
}

/// A bare value: up to the next space; no Lucene special characters.
fn bare(cursor: &mut Cursor, name: &str) -> Result<String, LogQueryError> {
    let value = cursor.take_while(|c| !c.is_whitespace());
    if let Some(special) = value.chars().find(|c| "\"()[]{}*?\\".contains(*c)) {
        return fail(format!(
            "The value of '{name}' contains '{special}', which is not supported unquoted \
             (no wildcards, groups or ranges)."
        ));
    }
    Ok(value)
}

/// `"…"`, with `\"` and `\\` escapes.
fn quoted(cursor: &mut Cursor) -> Result<String, LogQueryError> {
    let open = cursor.pos;
    cursor.advance(1);
    let mut value = String::new();
    loop {
        match cursor.next() {
            None => {
                return fail(format!(
                    "The quote opened at position {open} is not closed."
                ))
            }
            Some('"') => return Ok(value),
            Some('\\') => match cursor.next() {
                Some(c @ ('"' | '\\')) => value.push(c),
                _ => return fail("Only \\\" and \\\\ escapes are supported in quoted values."),
            },
            Some(c) => value.push(c),
        }
    }
}

fn date_value(cursor: &mut Cursor) -> Result<Value, LogQueryError> {
    match cursor.peek() {
        Some('[') => date_range(cursor),
        Some('{') => fail("Exclusive date ranges {A TO B} are not supported; use [A TO B]."),
        Some('"') => {
            let text = quoted(cursor)?;
            day_or_instant(&text)
        }
        _ => {
            let text = bare(cursor, "date")?;
            if text.is_empty() {
                return fail("The field 'date' has no value.");
            }
            day_or_instant(&text)
        }
    }
}

/// `date:D`: the whole day for a date, that second for a datetime.
fn day_or_instant(text: &str) -> Result<Value, LogQueryError> {
    Ok(Value::Range(
        Some(parse_instant(text, Bound::Lower)?),
        Some(parse_instant(text, Bound::Upper)?),
    ))
}

fn date_range(cursor: &mut Cursor) -> Result<Value, LogQueryError> {
    let open = cursor.pos;
    cursor.advance(1);
    cursor.skip_spaces();
    let from = cursor.take_while(|c| !c.is_whitespace() && c != ']');
    cursor.skip_spaces();
    if cursor.peek_word() != "TO" {
        if cursor.at_end() {
            return fail(format!("The '[' at position {open} is not closed."));
        }
        return fail("A date range must read [A TO B].");
    }
    cursor.advance(2);
    cursor.skip_spaces();
    let to = cursor.take_while(|c| !c.is_whitespace() && c != ']' && c != '}');
    cursor.skip_spaces();
    match cursor.next() {
        Some(']') => {}
        Some('}') => {
            return fail("Exclusive date ranges {A TO B} are not supported; use [A TO B].")
        }
        None => return fail(format!("The '[' at position {open} is not closed.")),
        Some(c) => {
            return fail(format!(
                "Expected ']' to close the date range, found '{c}'."
            ))
        }
    }
    let from = range_end(&from, Bound::Lower)?;
    let to = range_end(&to, Bound::Upper)?;
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return fail("The date range starts after it ends.");
        }
    }
    Ok(Value::Range(from, to))
}

fn range_end(text: &str, bound: Bound) -> Result<Option<i64>, LogQueryError> {
    match text {
        "" => fail("A date range needs a date or * on both sides of TO."),
        "*" => Ok(None),
        _ => parse_instant(text, bound).map(Some),
    }
}

fn apply(filter: &mut LogFilter, field: Field, value: Value) -> Result<(), LogQueryError> {
    match (field, value) {
        (Field::Date, Value::Range(from, to)) => {
            filter.date_from = from;
            filter.date_to = to;
        }
        (_, Value::Range(..)) => return fail("Ranges are only supported for date."),
        (Field::Date, Value::Text(_)) => return fail("The date must be a date or a range."),
        (Field::Type, Value::Text(v)) => filter.event_type = Some(v),
        (Field::ClientId, Value::Text(v)) => filter.client_id = Some(v),
        (Field::UserId, Value::Text(v)) => filter.user_id = Some(v),
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Bound {
    Lower,
    Upper,
}

/// `YYYY-MM-DD` (a lower bound is the day's first second, an upper bound its
/// last) or `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]` (UTC when no offset).
fn parse_instant(text: &str, bound: Bound) -> Result<i64, LogQueryError> {
    let bad = || LogQueryError(format!("'{text}' is not an ISO 8601 date or datetime."));
    let (date_part, time_part) = match text.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let date = parse_date(date_part).ok_or_else(bad)?;
    let Some(time_part) = time_part else {
        let start = date.midnight().assume_utc().unix_timestamp();
        return Ok(match bound {
            Bound::Lower => start,
            Bound::Upper => start + 86_399,
        });
    };
    let (clock, offset) = split_offset(time_part).ok_or_else(bad)?;
    let time = parse_time(clock).ok_or_else(bad)?;
    Ok(PrimitiveDateTime::new(date, time)
        .assume_offset(offset)
        .unix_timestamp())
}

fn number<T: std::str::FromStr>(text: &str, digits: usize) -> Option<T> {
    if text.len() != digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let year: i32 = number(parts.next()?, 4)?;
    let month: u8 = number(parts.next()?, 2)?;
    let day: u8 = number(parts.next()?, 2)?;
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// `HH:MM[:SS[.fff]]` and the offset after it (`Z`, `±HH:MM`, or none for UTC).
fn split_offset(text: &str) -> Option<(&str, UtcOffset)> {
    if let Some(clock) = text.strip_suffix(['Z', 'z']) {
        return Some((clock, UtcOffset::UTC));
    }
    match text.rfind(['+', '-']) {
        Some(at) => {
            let (clock, offset) = text.split_at(at);
            let sign: i8 = if offset.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = offset.get(1..)?.split_once(':')?;
            let hours: i8 = number(hours, 2)?;
            let minutes: i8 = number(minutes, 2)?;
            let offset = UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?;
            Some((clock, offset))
        }
        None => Some((text, UtcOffset::UTC)),
    }
}

fn parse_time(text: &str) -> Option<Time> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    if let Some(fraction) = fraction {
        if fraction.is_empty()
            || fraction.len() > 9
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
    }
    let mut parts = whole.split(':');
    let hour: u8 = number(parts.next()?, 2)?;
    let minute: u8 = number(parts.next()?, 2)?;
    let second: u8 = match parts.next() {
        Some(s) => number(s, 2)?,
        None if fraction.is_none() => 0,
        None => return None,
    };
    if parts.next().is_some() {
        return None;
    }
    // Dates are kept in whole seconds: a fraction only narrows within its second.
    Time::from_hms(hour, minute, second).ok()
}

/// A position in the query, by character.
struct Cursor {
    chars: Vec<char>,
    pos: usize,
}

impl Cursor {
    fn new(text: &str) -> Self {
        Self {
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.advance(usize::from(c.is_some()));
        c
    }

    fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.chars.len());
    }

    /// Skips whitespace; whether there was any.
    fn skip_spaces(&mut self) -> bool {
        !self.take_while(char::is_whitespace).is_empty()
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> String {
        let mut taken = String::new();
        while let Some(c) = self.peek().filter(|c| keep(*c)) {
            taken.push(c);
            self.pos += 1;
        }
        taken
    }

    /// The characters from here to the next space, without consuming them.
    fn peek_word(&self) -> String {
        self.peek_word_from(self.pos)
    }

    fn peek_word_from(&self, start: usize) -> String {
        self.chars
            .iter()
            .skip(start)
            .take_while(|c| !c.is_whitespace())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z

    fn parse(q: &str) -> LogFilter {
        parse_log_query(q).unwrap()
    }

    fn error(q: &str) -> String {
        parse_log_query(q).unwrap_err().0
    }

    #[test]
    fn empty_matches_everything() {
        assert_eq!(parse(""), LogFilter::default());
        assert_eq!(parse("   "), LogFilter::default());
    }

    #[test]
    fn fields_bare_and_quoted() {
        let f = parse(r#"type:seccft client_id:"abc def" user_id:auth0|123"#);
        assert_eq!(f.event_type.as_deref(), Some("seccft"));
        assert_eq!(f.client_id.as_deref(), Some("abc def"));
        assert_eq!(f.user_id.as_deref(), Some("auth0|123"));
        assert_eq!(f.date_from, None);
        let f = parse(r#"user_id:"a\"b\\c""#);
        assert_eq!(f.user_id.as_deref(), Some(r#"a"b\c"#));
    }

    #[test]
    fn and_joins_terms() {
        let f = parse("type:fp AND client_id:c1  AND   user_id:u");
        assert_eq!(f.event_type.as_deref(), Some("fp"));
        assert_eq!(f.client_id.as_deref(), Some("c1"));
        assert_eq!(f.user_id.as_deref(), Some("u"));
    }

    #[test]
    fn date_ranges() {
        let f = parse("date:[2024-01-01 TO 2024-01-02]");
        assert_eq!(f.date_from, Some(DAY));
        assert_eq!(f.date_to, Some(DAY + 2 * 86_400 - 1));
        let f = parse("date:[2024-01-01T10:00:00Z TO *]");
        assert_eq!(f.date_from, Some(DAY + 36_000));
        assert_eq!(f.date_to, None);
        let f = parse("date:[* TO 2024-01-01T10:00:00.999+02:00]");
        assert_eq!(f.date_from, None);
        assert_eq!(f.date_to, Some(DAY + 28_800));
        let f = parse("date:[2024-01-01T10:30 TO 2024-01-01T10:31]");
        assert_eq!(f.date_from, Some(DAY + 37_800));
        assert_eq!(f.date_to, Some(DAY + 37_860));
        let f = parse("date:2024-01-01");
        assert_eq!((f.date_from, f.date_to), (Some(DAY), Some(DAY + 86_399)));
        let f = parse(r#"date:"2024-01-01T00:00:05Z" type:s"#);
        assert_eq!((f.date_from, f.date_to), (Some(DAY + 5), Some(DAY + 5)));
    }

    #[test]
    fn refusals_name_the_problem() {
        assert!(error("ip:1.2.3.4").contains("'ip' is not supported"));
        assert!(error("jane").contains("free-text"));
        assert!(error("type:s OR type:f").contains("'OR'"));
        assert!(error("NOT type:s").contains("free-text"));
        assert!(error("type:s NOT").contains("'NOT'"));
        assert!(error("(type:s)").contains("Parentheses"));
        assert!(error("type:").contains("no value"));
        assert!(error("type:s*").contains("'*'"));
        assert!(error(r#"type:"open"#).contains("not closed"));
        assert!(error("date:[2024-01-01 TO 2024-01-02").contains("not closed"));
        assert!(error("date:[2024-01-01 TO").contains("not closed"));
        assert!(error("date:[* TO *] date:2024-01-01").contains("more than once"));
        assert!(error("date:[2024-01-01 2024-01-02]").contains("[A TO B]"));
        assert!(error("date:{2024-01-01 TO *}").contains("Exclusive"));
        assert!(error("date:[2024-01-02 TO 2024-01-01]").contains("starts after"));
        assert!(error("date:[2024-13-01 TO *]").contains("ISO 8601"));
        assert!(error("date:[2024-02-30 TO *]").contains("ISO 8601"));
        assert!(error("date:[yesterday TO *]").contains("ISO 8601"));
        assert!(error("client_id:[a TO b]").contains("only supported for date"));
        assert!(error("type:s type:f").contains("more than once"));
        assert!(error("type:s AND").contains("AND"));
        assert!(error("type:\"a\"type:b").contains("space"));
        assert!(error("type:a\u{7}").contains("control"));
        assert!(error(&"x".repeat(MAX_QUERY_BYTES + 1)).contains("too long"));
    }

    #[test]
    fn sql_looking_values_are_just_values_or_refused() {
        assert!(error("type:x' OR '1'='1").contains("'OR'"));
        let f = parse(r#"type:"x' OR '1'='1""#);
        assert_eq!(f.event_type.as_deref(), Some("x' OR '1'='1"));
        let f = parse("user_id:x';DROP");
        assert_eq!(f.user_id.as_deref(), Some("x';DROP"));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for q in [
            "[",
            "]",
            ":",
            "::",
            "\"",
            "date:",
            "date:[",
            "date:[ TO ]",
            "date:[*",
            "a:b:c",
            "type:\\",
            "date:[2024-01-01T TO *]",
            "date:2024-01-01T25:00",
            "é:ü",
            "type:é",
            "date:[2024-01-01T10:00+99:00 TO *]",
            "date:-",
            "AND",
            "AND type:s",
        ] {
            let _ = parse_log_query(q);
        }
        assert!(parse_log_query("type:é").is_ok());
    }
}
