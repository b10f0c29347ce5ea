//! Recurring café sessions: a rule ("every Thursday", "the 2nd and 4th Thursday of the month")
//! turned into the dates it gives between two dates, and a date with a start and end time turned
//! into the instants of a session in the site's time zone. Pure code: no database, no clock.
//!
//! A series is bounded (at most [`MAX_MONTHS`] long and [`MAX_SESSIONS`] sessions), so one form
//! can never write an unbounded number of rows.

use jiff::ToSpan;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

/// The longest a series may run, from its first date to its last.
pub const MAX_MONTHS: i32 = 12;
/// The most sessions one series may make.
pub const MAX_SESSIONS: usize = 60;

/// The weekdays as the forms and the stored rules name them, Monday first.
pub const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

pub fn weekday_code(weekday: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|(_, w)| *w == weekday)
        .map_or("mon", |(code, _)| code)
}

pub fn weekday_of(code: &str) -> Option<Weekday> {
    WEEKDAYS.iter().find(|(c, _)| *c == code).map(|(_, w)| *w)
}

/// How sessions repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Every week on this weekday.
    Weekly(Weekday),
    /// The `nths` (1 to 5, ascending, none twice) of this weekday in each month; a month without
    /// a 5th has no session for it.
    Monthly { nths: Vec<i8>, weekday: Weekday },
}

/// Why a rule gives no series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// The last date is before the first.
    EndBeforeStart,
    /// Longer than [`MAX_MONTHS`].
    TooLong,
    /// Monthly, with no week chosen (or one outside 1 to 5).
    NoWeeks,
    /// No date between the two.
    NoDates,
    /// More than [`MAX_SESSIONS`]; how many it would be (counted up to one more).
    TooMany(usize),
}

impl Rule {
    /// A monthly rule from the chosen weeks, in any order and possibly repeated.
    pub fn monthly(mut nths: Vec<i8>, weekday: Weekday) -> Result<Rule, RuleError> {
        nths.sort_unstable();
        nths.dedup();
        if nths.is_empty() || nths.iter().any(|n| !(1..=5).contains(n)) {
            return Err(RuleError::NoWeeks);
        }
        Ok(Rule::Monthly { nths, weekday })
    }

    /// The rule as stored in `cafe_series.rule`: `weekly thu`, `monthly 2,4 thu`.
    pub fn text(&self) -> String {
        match self {
            Rule::Weekly(weekday) => format!("weekly {}", weekday_code(*weekday)),
            Rule::Monthly { nths, weekday } => {
                let weeks: Vec<String> = nths.iter().map(i8::to_string).collect();
                format!("monthly {} {}", weeks.join(","), weekday_code(*weekday))
            }
        }
    }

    /// A stored rule read back.
    pub fn parse(text: &str) -> Option<Rule> {
        let parts: Vec<&str> = text.split(' ').collect();
        match parts.as_slice() {
            ["weekly", day] => Some(Rule::Weekly(weekday_of(day)?)),
            ["monthly", weeks, day] => {
                let nths = weeks
                    .split(',')
                    .map(|n| n.parse::<i8>().ok())
                    .collect::<Option<Vec<_>>>()?;
                Rule::monthly(nths, weekday_of(day)?).ok()
            }
            _ => None,
        }
    }

    /// The dates the rule gives from `first` to `last`, both included, in order. (One weekday
    /// in twelve months gives at most 53 dates, so today the count bound is a guard: the span's
    /// bound answers first.)
    pub fn dates(&self, first: Date, last: Date) -> Result<Vec<Date>, RuleError> {
        self.dates_at_most(first, last, MAX_SESSIONS)
    }

    fn dates_at_most(&self, first: Date, last: Date, max: usize) -> Result<Vec<Date>, RuleError> {
        if last < first {
            return Err(RuleError::EndBeforeStart);
        }
        let limit = first
            .checked_add(MAX_MONTHS.months())
            .map_err(|_| RuleError::TooLong)?;
        if last > limit {
            return Err(RuleError::TooLong);
        }
        let mut dates = Vec::new();
        let mut push = |date: Date| {
            if date >= first && date <= last {
                dates.push(date);
            }
            dates.len() <= max
        };
        match self {
            Rule::Weekly(weekday) => {
                let ahead = i64::from(
                    (weekday.to_monday_zero_offset() - first.weekday().to_monday_zero_offset())
                        .rem_euclid(7),
                );
                let mut date = first
                    .checked_add(ahead.days())
                    .map_err(|_| RuleError::TooLong)?;
                while date <= last && push(date) {
                    date = match date.checked_add(7.days()) {
                        Ok(next) => next,
                        Err(_) => break,
                    };
                }
            }
            Rule::Monthly { nths, weekday } => {
                let mut month = first.first_of_month();
                'months: while month <= last {
                    for nth in nths {
                        // A month without a 5th such weekday has no session for it.
                        if let Ok(date) = month.nth_weekday_of_month(*nth, *weekday)
                            && !push(date)
                        {
                            break 'months;
                        }
                    }
                    month = match month.checked_add(1.month()) {
                        Ok(next) => next,
                        Err(_) => break,
                    };
                }
            }
        }
        match dates.len() {
            0 => Err(RuleError::NoDates),
            n if n > max => Err(RuleError::TooMany(n)),
            _ => Ok(dates),
        }
    }
}

/// Why a date and two times are not a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// The end is not after the start (a session ends on the day it starts).
    EndNotAfterStart,
    /// The date and time do not exist in the time zone, or are out of range.
    Unrepresentable,
}

/// The start and end of a session on `date` from `start` to `end` (the same day) in `zone`, as
/// Unix seconds. A time a daylight-saving change skips is moved forward, as clocks are.
pub fn session_times(
    zone: &TimeZone,
    date: Date,
    start: Time,
    end: Time,
) -> Result<(i64, i64), TimeError> {
    if end <= start {
        return Err(TimeError::EndNotAfterStart);
    }
    let instant = |time: Time| {
        crate::web::datetime::instant(zone, date, time).ok_or(TimeError::Unrepresentable)
    };
    let (starts, ends) = (instant(start)?, instant(end)?);
    if ends <= starts {
        return Err(TimeError::EndNotAfterStart);
    }
    Ok((starts, ends))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn thursday() -> Weekday {
        Weekday::Thursday
    }

    #[test]
    fn second_and_fourth_thursdays_cross_month_and_year_ends() {
        let rule = Rule::monthly(vec![4, 2, 2], thursday()).expect("a rule");
        assert_eq!(rule.text(), "monthly 2,4 thu");
        assert_eq!(Rule::parse(&rule.text()), Some(rule.clone()));
        let dates = rule
            .dates(date(2026, 11, 20), date(2027, 2, 28))
            .expect("dates");
        assert_eq!(
            dates,
            vec![
                // 12 November is before the first date; 26 November is the 4th Thursday.
                date(2026, 11, 26),
                date(2026, 12, 10),
                date(2026, 12, 24),
                date(2027, 1, 14),
                date(2027, 1, 28),
                date(2027, 2, 11),
                date(2027, 2, 25),
            ]
        );
        assert!(dates.iter().all(|d| d.weekday() == thursday()));
    }

    #[test]
    fn a_fifth_weekday_exists_only_in_some_months() {
        let rule = Rule::monthly(vec![5], thursday()).expect("a rule");
        // 2026: Thursdays 29 January, 30 April, 30 July, 29 October, 31 December are 5th ones.
        let dates = rule
            .dates(date(2026, 1, 1), date(2026, 12, 31))
            .expect("dates");
        assert_eq!(
            dates,
            vec![
                date(2026, 1, 29),
                date(2026, 4, 30),
                date(2026, 7, 30),
                date(2026, 10, 29),
                date(2026, 12, 31),
            ]
        );
        // A span with no month holding a 5th Thursday gives nothing, and says so.
        assert_eq!(
            rule.dates(date(2026, 2, 1), date(2026, 3, 31)),
            Err(RuleError::NoDates)
        );
    }

    #[test]
    fn weekly_steps_over_the_year_end_and_includes_both_ends() {
        let rule = Rule::Weekly(Weekday::Monday);
        assert_eq!(Rule::parse("weekly mon"), Some(rule.clone()));
        let dates = rule
            .dates(date(2026, 12, 21), date(2027, 1, 11))
            .expect("dates");
        assert_eq!(
            dates,
            vec![
                date(2026, 12, 21),
                date(2026, 12, 28),
                date(2027, 1, 4),
                date(2027, 1, 11),
            ]
        );
        // Starting the day after a Monday waits for the next one.
        assert_eq!(
            rule.dates(date(2026, 12, 22), date(2026, 12, 28)),
            Ok(vec![date(2026, 12, 28)])
        );
        assert_eq!(
            rule.dates(date(2026, 12, 22), date(2026, 12, 27)),
            Err(RuleError::NoDates)
        );
    }

    #[test]
    fn series_are_bounded_in_length_and_count() {
        let weekly = Rule::Weekly(thursday());
        // Twelve months is the most; a day more is refused.
        assert!(weekly.dates(date(2027, 1, 31), date(2028, 1, 31)).is_ok());
        assert_eq!(
            weekly.dates(date(2027, 1, 31), date(2028, 2, 1)),
            Err(RuleError::TooLong)
        );
        assert_eq!(
            weekly.dates(date(2027, 2, 1), date(2027, 1, 31)),
            Err(RuleError::EndBeforeStart)
        );
        // Every week of the month for a year is every Thursday: 52, within the bound.
        let every = Rule::monthly(vec![1, 2, 3, 4, 5], thursday()).expect("a rule");
        let year = every
            .dates(date(2027, 1, 1), date(2027, 12, 31))
            .expect("dates");
        assert_eq!(
            year,
            weekly
                .dates(date(2027, 1, 1), date(2027, 12, 31))
                .expect("dates")
        );
        assert_eq!(year.len(), 52);
        // Counting stops one past the bound, whichever rule.
        assert_eq!(
            every.dates_at_most(date(2027, 1, 1), date(2027, 12, 31), 5),
            Err(RuleError::TooMany(6))
        );
        assert_eq!(
            weekly.dates_at_most(date(2027, 1, 1), date(2027, 12, 31), 51),
            Err(RuleError::TooMany(52))
        );
        assert_eq!(
            weekly
                .dates_at_most(date(2027, 1, 1), date(2027, 12, 31), 52)
                .map(|d| d.len()),
            Ok(52)
        );
        assert_eq!(Rule::monthly(vec![], thursday()), Err(RuleError::NoWeeks));
        assert_eq!(Rule::monthly(vec![6], thursday()), Err(RuleError::NoWeeks));
        assert_eq!(Rule::parse("monthly 0 thu"), None);
        assert_eq!(Rule::parse("daily"), None);
        assert_eq!(Rule::parse("weekly someday"), None);
    }

    #[test]
    fn tokyo_times_are_nine_hours_ahead_all_year_and_end_after_start() {
        let tokyo = TimeZone::get("Asia/Tokyo").expect("the zone");
        // Winter and summer alike: Tokyo has no daylight saving.
        let (start, end) = session_times(
            &tokyo,
            date(2026, 12, 10),
            time(19, 0, 0, 0),
            time(20, 30, 0, 0),
        )
        .expect("times");
        assert_eq!(start, 1_796_896_800); // 2026-12-10T10:00:00Z
        assert_eq!(end - start, 90 * 60);
        let (summer, _) = session_times(
            &tokyo,
            date(2026, 7, 9),
            time(19, 0, 0, 0),
            time(20, 0, 0, 0),
        )
        .expect("times");
        let utc = jiff::Timestamp::from_second(summer)
            .expect("an instant")
            .to_zoned(TimeZone::UTC);
        assert_eq!((utc.hour(), utc.minute()), (10, 0));
        assert_eq!(
            session_times(
                &tokyo,
                date(2026, 7, 9),
                time(19, 0, 0, 0),
                time(19, 0, 0, 0)
            ),
            Err(TimeError::EndNotAfterStart)
        );
        assert_eq!(
            session_times(
                &tokyo,
                date(2026, 7, 9),
                time(19, 0, 0, 0),
                time(9, 0, 0, 0)
            ),
            Err(TimeError::EndNotAfterStart)
        );
        // Where clocks do change, an hour that does not exist moves forward and still ends
        // after it starts.
        let new_york = TimeZone::get("America/New_York").expect("the zone");
        let (start, end) = session_times(
            &new_york,
            date(2027, 3, 14),
            time(2, 30, 0, 0),
            time(4, 0, 0, 0),
        )
        .expect("times");
        assert_eq!(
            end - start,
            30 * 60,
            "02:30 does not exist: it starts at 03:30"
        );
        // Moved forward, a start can meet its end: refused.
        assert_eq!(
            session_times(
                &new_york,
                date(2027, 3, 14),
                time(2, 30, 0, 0),
                time(3, 30, 0, 0)
            ),
            Err(TimeError::EndNotAfterStart)
        );
    }
}
