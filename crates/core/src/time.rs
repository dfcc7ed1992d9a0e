//! Timestamps as Auth0 writes them.
//!
//! Gatehouse keeps time as seconds since the Unix epoch everywhere; the clock
//! ([`crate::clock`]) is read by the caller and passed in. This module only formats: ID tokens and
//! Management API objects carry ISO-8601 strings (`updated_at` is a string in
//! Auth0's ID tokens, not a number).

use std::num::NonZeroU8;
use time::format_description::well_known::iso8601::{Config, EncodedConfig, TimePrecision};
use time::format_description::well_known::Iso8601;
use time::OffsetDateTime;

/// ISO 8601 with milliseconds and `Z`, as Auth0 writes it.
const AUTH0_FORMAT: EncodedConfig = Config::DEFAULT
    .set_time_precision(TimePrecision::Second {
        decimal_digits: NonZeroU8::new(3),
    })
    .encode();

/// The instants a four-digit year can show: 0000-01-01T00:00:00Z and
/// 9999-12-31T23:59:59Z.
const FIRST_SHOWN: i64 = -62_167_219_200;
const LAST_SHOWN: i64 = 253_402_300_799;

/// Formats epoch seconds as `YYYY-MM-DDTHH:MM:SS.000Z`; instants beyond the
/// four-digit years show as the nearest one within them.
pub fn iso8601(epoch_seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch_seconds.clamp(FIRST_SHOWN, LAST_SHOWN))
        .ok()
        .and_then(|instant| instant.format(&Iso8601::<AUTH0_FORMAT>).ok())
        // Unreachable: every instant in the clamped range formats.
        .unwrap_or_default()
}

/// Seconds in a day (days are UTC, without leap seconds).
pub const DAY_SECONDS: i64 = 86_400;

/// The day of epoch seconds, as days since 1970-01-01 (UTC).
pub fn day_of(epoch_seconds: i64) -> i64 {
    epoch_seconds.div_euclid(DAY_SECONDS)
}

/// Parses `YYYYMMDD` (a real calendar day) into days since 1970-01-01.
pub fn parse_yyyymmdd(text: &str) -> Option<i64> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let month: u8 = text.get(4..6)?.parse().ok()?;
    let day: u8 = text.get(6..8)?.parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    Some(i64::from(
        date.to_julian_day() - time::OffsetDateTime::UNIX_EPOCH.date().to_julian_day(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_calendar_days() {
        assert_eq!(parse_yyyymmdd("19700101"), Some(0));
        assert_eq!(parse_yyyymmdd("20000229"), Some(11_016));
        assert_eq!(parse_yyyymmdd("19691231"), Some(-1));
        for bad in [
            "",
            "2000022",
            "200002291",
            "20000230",
            "20001301",
            "2000-1-1",
            "+0000101",
            "２０００0101",
        ] {
            assert_eq!(parse_yyyymmdd(bad), None, "{bad}");
        }
        assert_eq!(day_of(11_016 * DAY_SECONDS + 86_399), 11_016);
        assert_eq!(day_of(-1), -1);
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_597_184_817), "2020-08-11T22:26:57.000Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(4_102_444_799), "2099-12-31T23:59:59.000Z");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59.000Z");
    }

    #[test]
    fn clamps_to_four_digit_years() {
        assert_eq!(iso8601(FIRST_SHOWN), "0000-01-01T00:00:00.000Z");
        assert_eq!(iso8601(LAST_SHOWN), "9999-12-31T23:59:59.000Z");
        assert_eq!(iso8601(i64::MIN), "0000-01-01T00:00:00.000Z");
        assert_eq!(iso8601(i64::MAX), "9999-12-31T23:59:59.000Z");
    }
}
