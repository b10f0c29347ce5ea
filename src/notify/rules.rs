//! When a notice may be mailed: the member's mode for its kind, their quiet hours, and the daily
//! digest's hour, all in the site's time zone (jiff). Pure functions, so the mailer and the tests
//! agree on every boundary.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

use super::{Kind, Mode};

/// The daily digest goes out at this local hour (08:00), outside the usual quiet hours; a member
/// whose own quiet hours cover it gets it when they end.
pub const DIGEST_HOUR: i8 = 8;

fn zoned(tz: &TimeZone, at: i64) -> Option<Zoned> {
    Some(Timestamp::from_second(at).ok()?.to_zoned(tz.clone()))
}

/// Minutes after local midnight at `at`.
pub fn local_minute(tz: &TimeZone, at: i64) -> i64 {
    zoned(tz, at).map_or(0, |z| i64::from(z.hour()) * 60 + i64::from(z.minute()))
}

/// Whether a local minute of the day falls in the window `(from, until)` (minutes after
/// midnight; a window may run past midnight, such as 22:00–07:00; from == until is no window).
pub fn in_window(window: (i64, i64), minute: i64) -> bool {
    let (from, until) = window;
    match from.cmp(&until) {
        std::cmp::Ordering::Less => from <= minute && minute < until,
        std::cmp::Ordering::Greater => minute >= from || minute < until,
        std::cmp::Ordering::Equal => false,
    }
}

/// Whether `at` is in the member's quiet hours.
pub fn is_quiet(tz: &TimeZone, quiet: Option<(i64, i64)>, at: i64) -> bool {
    quiet.is_some_and(|window| in_window(window, local_minute(tz, at)))
}

/// The first moment at or after `at` whose local time is `minute` after midnight.
fn next_local(tz: &TimeZone, at: i64, minute: i64) -> Option<i64> {
    let z = zoned(tz, at)?;
    let hour = i8::try_from(minute / 60).ok()?;
    let min = i8::try_from(minute % 60).ok()?;
    let today = z
        .with()
        .hour(hour)
        .minute(min)
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .ok()?;
    let next = if today.timestamp().as_second() < at {
        today.checked_add(1.day()).ok()?
    } else {
        today
    };
    Some(next.timestamp().as_second())
}

/// When the quiet hours around `at` end (`at` itself when it is not quiet).
pub fn quiet_ends(tz: &TimeZone, quiet: Option<(i64, i64)>, at: i64) -> i64 {
    match quiet {
        Some(window) if is_quiet(tz, quiet, at) => next_local(tz, at, window.1).unwrap_or(at),
        _ => at,
    }
}

/// The next digest hour after `at`.
pub fn next_digest(tz: &TimeZone, at: i64) -> i64 {
    next_local(tz, at + 1, i64::from(DIGEST_HOUR) * 60).unwrap_or(at + 86_400)
}

/// The latest digest hour at or before `at`.
pub fn last_digest(tz: &TimeZone, at: i64) -> i64 {
    let next = next_local(tz, at, i64::from(DIGEST_HOUR) * 60).unwrap_or(at);
    if next == at {
        return at;
    }
    zoned(tz, next)
        .and_then(|z| z.checked_sub(1.day()).ok())
        .map_or(at - 86_400, |z| z.timestamp().as_second())
}

/// Whether a notice of `kind`, waiting since `since`, is due at `now` for a member with `mode`
/// and `quiet` hours: off is always due (to be dropped unmailed); otherwise never in quiet
/// hours; at once after `delay` seconds (replies and mentions gather for a while), or in the
/// first digest after it was made.
pub fn due(
    tz: &TimeZone,
    kind: Kind,
    mode: Mode,
    quiet: Option<(i64, i64)>,
    since: i64,
    now: i64,
    delay: i64,
) -> bool {
    match mode {
        Mode::Off => true,
        _ if is_quiet(tz, quiet, now) => false,
        Mode::Now => since <= now - kind.gathers(delay),
        Mode::Digest => since < last_digest(tz, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokyo() -> TimeZone {
        TimeZone::get("Asia/Tokyo").expect("bundled zone")
    }

    /// 2026-12-03 at a local time in Tokyo, as Unix seconds.
    fn at(hour: i8, minute: i8) -> i64 {
        jiff::civil::date(2026, 12, 3)
            .at(hour, minute, 0, 0)
            .to_zoned(tokyo())
            .expect("a time")
            .timestamp()
            .as_second()
    }

    #[test]
    fn windows_may_cross_midnight() {
        let night = (22 * 60, 7 * 60);
        assert!(in_window(night, 23 * 60));
        assert!(in_window(night, 0));
        assert!(in_window(night, 6 * 60 + 59));
        assert!(!in_window(night, 7 * 60));
        assert!(!in_window(night, 12 * 60));
        assert!(in_window(night, 22 * 60));
        let lunch = (12 * 60, 13 * 60);
        assert!(in_window(lunch, 12 * 60 + 30));
        assert!(!in_window(lunch, 13 * 60));
        assert!(!in_window((5, 5), 5), "an empty window holds nothing");
    }

    #[test]
    fn quiet_hours_end_at_their_local_end() {
        let tz = tokyo();
        let night = Some((22 * 60, 7 * 60));
        assert_eq!(quiet_ends(&tz, night, at(23, 30)), at(7, 0) + 86_400);
        assert_eq!(quiet_ends(&tz, night, at(3, 0)), at(7, 0));
        assert_eq!(quiet_ends(&tz, night, at(9, 0)), at(9, 0), "not quiet");
        assert_eq!(quiet_ends(&tz, None, at(23, 0)), at(23, 0));
    }

    #[test]
    fn the_digest_hour_is_local() {
        let tz = tokyo();
        assert_eq!(next_digest(&tz, at(7, 59)), at(8, 0));
        assert_eq!(next_digest(&tz, at(8, 0)), at(8, 0) + 86_400);
        assert_eq!(last_digest(&tz, at(8, 0)), at(8, 0));
        assert_eq!(last_digest(&tz, at(7, 59)), at(8, 0) - 86_400);
        assert_eq!(last_digest(&tz, at(20, 0)), at(8, 0));
    }

    #[test]
    fn what_is_due_when() {
        let tz = tokyo();
        let night = Some((22 * 60, 7 * 60));
        let posted = at(21, 0);
        // At once: after the gathering delay for replies, not in quiet hours.
        assert!(due(
            &tz,
            Kind::Reply,
            Mode::Now,
            night,
            posted,
            at(21, 10),
            300
        ));
        assert!(!due(
            &tz,
            Kind::Reply,
            Mode::Now,
            night,
            posted,
            at(21, 2),
            300
        ));
        assert!(due(
            &tz,
            Kind::Announcement,
            Mode::Now,
            night,
            posted,
            posted,
            300
        ));
        assert!(!due(
            &tz,
            Kind::Reply,
            Mode::Now,
            night,
            posted,
            at(23, 0),
            300
        ));
        assert!(due(
            &tz,
            Kind::Reply,
            Mode::Now,
            night,
            posted,
            at(7, 0) + 86_400,
            300
        ));
        // The digest: the first digest hour after it was made, outside quiet hours.
        let next_morning = at(8, 0) + 86_400;
        assert!(!due(
            &tz,
            Kind::Reply,
            Mode::Digest,
            night,
            posted,
            next_morning - 60,
            300
        ));
        assert!(due(
            &tz,
            Kind::Reply,
            Mode::Digest,
            night,
            posted,
            next_morning,
            300
        ));
        let late_riser = Some((22 * 60, 9 * 60));
        assert!(!due(
            &tz,
            Kind::Reply,
            Mode::Digest,
            late_riser,
            posted,
            next_morning,
            300
        ));
        assert!(due(
            &tz,
            Kind::Reply,
            Mode::Digest,
            late_riser,
            posted,
            next_morning + 3600,
            300
        ));
        // Off: handled (dropped) whenever.
        assert!(due(
            &tz,
            Kind::Cafe,
            Mode::Off,
            night,
            posted,
            at(23, 0),
            300
        ));
    }
}
