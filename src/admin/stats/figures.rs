//! The figures: a range of calendar months in the site's time zone, the rows of that range
//! counted by month, and the rules that keep small numbers of people from being seen.
//!
//! Privacy rules (said on the page too):
//! - a cell that counts people (invited, joined, active by relation, café participants) under
//!   [`SMALL`] is shown as `<5`;
//! - the total of active members is the sum of the three relations, so when any of them is
//!   hidden the total is hidden too (shown as `*`): no hidden cell can be worked out by
//!   subtraction. There are no totals over months of people.

use std::collections::HashSet;

use jiff::ToSpan;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::db::stats::{Act, Handled};

/// Fewer people than this are not shown.
pub const SMALL: u64 = 5;
/// The longest range of months one table may cover.
pub const MAX_MONTHS: i32 = 36;

/// A cell of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Count(u64),
    /// People under [`SMALL`]: `<5`.
    Small,
    /// Hidden so that a small cell cannot be worked out by subtraction: `*`.
    Hidden,
    /// A median in tenths of its unit (hours or minutes); `None` when nothing was handled.
    Tenths(Option<u64>),
}

impl Cell {
    /// A count of people: under [`SMALL`], hidden.
    pub fn people(n: u64) -> Cell {
        if n < SMALL {
            Cell::Small
        } else {
            Cell::Count(n)
        }
    }

    pub fn text(self) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            Cell::Small => format!("<{SMALL}"),
            Cell::Hidden => "*".to_owned(),
            Cell::Tenths(None) => "-".to_owned(),
            Cell::Tenths(Some(t)) => format!("{}.{}", t / 10, t % 10),
        }
    }

    /// The number a chart draws, when it may be shown.
    pub fn shown(self) -> Option<u64> {
        match self {
            Cell::Count(n) => Some(n),
            _ => None,
        }
    }
}

/// Calendar months `from` to `to`, both included, as their first days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    pub from: Date,
    pub to: Date,
}

/// Why a typed range cannot be used (a locale key under `stats.error.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeError {
    BadMonth,
    Reversed,
    TooLong,
}

impl RangeError {
    pub fn key(self) -> &'static str {
        match self {
            RangeError::BadMonth => "stats.error.bad_month",
            RangeError::Reversed => "stats.error.reversed",
            RangeError::TooLong => "stats.error.too_long",
        }
    }
}

/// A month typed as `2026-04` (what `<input type="month">` sends).
pub fn parse_month(typed: &str) -> Option<Date> {
    let (year, month) = typed.trim().split_once('-')?;
    if year.len() != 4 || !(1..=2).contains(&month.len()) {
        return None;
    }
    let year: i16 = year.parse().ok()?;
    let month: i8 = month.parse().ok()?;
    if !(2000..=2999).contains(&year) {
        return None;
    }
    Date::new(year, month, 1).ok()
}

fn index(month: Date) -> i32 {
    i32::from(month.year()) * 12 + i32::from(month.month()) - 1
}

impl MonthRange {
    pub fn parse(from: &str, to: &str) -> Result<MonthRange, RangeError> {
        let (Some(from), Some(to)) = (parse_month(from), parse_month(to)) else {
            return Err(RangeError::BadMonth);
        };
        MonthRange::new(from, to)
    }

    pub fn new(from: Date, to: Date) -> Result<MonthRange, RangeError> {
        let span = index(to) - index(from) + 1;
        if span < 1 {
            Err(RangeError::Reversed)
        } else if span > MAX_MONTHS {
            Err(RangeError::TooLong)
        } else {
            Ok(MonthRange { from, to })
        }
    }

    /// The fiscal year (April to March) that `today` is in, up to `today`'s month.
    pub fn this_fiscal_year(today: Date) -> MonthRange {
        let month = today.first_of_month();
        let april = if month.month() >= 4 {
            month.year()
        } else {
            month.year() - 1
        };
        MonthRange {
            from: Date::new(april, 4, 1).unwrap_or(month),
            to: month,
        }
    }

    /// The whole fiscal year before the one `today` is in.
    pub fn last_fiscal_year(today: Date) -> MonthRange {
        let this = MonthRange::this_fiscal_year(today);
        let from = this.from.saturating_sub(1.year());
        MonthRange {
            from,
            to: this.from.saturating_sub(1.month()),
        }
    }

    pub fn months(self) -> Vec<Date> {
        let count = index(self.to) - index(self.from) + 1;
        (0..count)
            .map(|i| self.from.saturating_add(i.months()))
            .collect()
    }

    /// `2026-04`.
    pub fn label(month: Date) -> String {
        month.strftime("%Y-%m").to_string()
    }

    /// The range as Unix seconds in `zone`: the first month's start, the start of the month
    /// after the last.
    pub fn bounds(self, zone: &TimeZone) -> (i64, i64) {
        let start = |date: Date| {
            date.to_zoned(zone.clone())
                .map(|z| z.timestamp().as_second())
                .unwrap_or(0)
        };
        (start(self.from), start(self.to.saturating_add(1.month())))
    }

    /// Which month of the range a time is in (in `zone`).
    fn slot(self, zone: &TimeZone, at: i64) -> Option<usize> {
        let date = jiff::Timestamp::from_second(at)
            .ok()?
            .to_zoned(zone.clone())
            .date();
        let i = index(date.first_of_month()) - index(self.from);
        let count = index(self.to) - index(self.from) + 1;
        (0..count).contains(&i).then_some(i as usize)
    }
}

/// The rows of a range, as read from the database.
#[derive(Default)]
pub struct Rows {
    pub invited: Vec<i64>,
    pub joined: Vec<i64>,
    pub acts: Vec<Act>,
    pub topics: Vec<i64>,
    pub posts: Vec<i64>,
    pub cafe_sessions: Vec<i64>,
    pub cafe_participants: Vec<(i64, i64)>,
    pub questions_asked: Vec<i64>,
    pub questions_accepted: Vec<i64>,
    pub questions_answered: Vec<i64>,
    pub reports: Vec<Handled>,
    pub alerts: Vec<Handled>,
}

/// The columns of the table, in order: each a locale key under `stats.col.`.
pub const COLUMNS: [&str; 18] = [
    "month",
    "invited",
    "joined",
    "active_patient",
    "active_family",
    "active_supporter",
    "active_total",
    "topics",
    "posts",
    "cafe_sessions",
    "cafe_participants",
    "questions_asked",
    "questions_accepted",
    "questions_answered",
    "reports",
    "report_median_hours",
    "alerts",
    "alert_median_minutes",
];

/// One month's figures, as they may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFigures {
    pub month: Date,
    pub invited: Cell,
    pub joined: Cell,
    /// Patient, family, supporter.
    pub active: [Cell; 3],
    pub active_total: Cell,
    pub topics: Cell,
    pub posts: Cell,
    pub cafe_sessions: Cell,
    pub cafe_participants: Cell,
    pub questions_asked: Cell,
    pub questions_accepted: Cell,
    pub questions_answered: Cell,
    pub reports: Cell,
    pub report_median: Cell,
    pub alerts: Cell,
    pub alert_median: Cell,
}

impl MonthFigures {
    /// The cells after the month, in [`COLUMNS`] order.
    pub fn cells(&self) -> [Cell; 17] {
        [
            self.invited,
            self.joined,
            self.active[0],
            self.active[1],
            self.active[2],
            self.active_total,
            self.topics,
            self.posts,
            self.cafe_sessions,
            self.cafe_participants,
            self.questions_asked,
            self.questions_accepted,
            self.questions_answered,
            self.reports,
            self.report_median,
            self.alerts,
            self.alert_median,
        ]
    }
}

/// The median of `values`; the mean of the middle two when there is an even number.
pub fn median(mut values: Vec<u64>) -> Option<u64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2),
    }
}

/// The median time to deal with what was raised (of what was dealt with), in tenths of `unit`
/// seconds, rounded to the nearest tenth.
fn median_tenths(handled: &[Handled], unit: u64) -> Cell {
    let waits = handled
        .iter()
        .filter_map(|(raised, done)| done.map(|done| (done - raised).max(0) as u64))
        .collect();
    Cell::Tenths(median(waits).map(|secs| (secs * 10 + unit / 2) / unit))
}

const RELATIONS: [&str; 3] = ["patient", "family", "supporter"];

/// Counts the rows of `range` by month in `zone`, with the privacy rules applied.
pub fn by_month(range: MonthRange, zone: &TimeZone, rows: &Rows) -> Vec<MonthFigures> {
    let months = range.months();
    let n = months.len();
    let slot = |at: i64| range.slot(zone, at);
    let count = |times: &[i64]| {
        let mut counts = vec![0u64; n];
        for &at in times {
            if let Some(i) = slot(at) {
                counts[i] += 1;
            }
        }
        counts
    };
    let mut active: Vec<[HashSet<i64>; 3]> = vec![Default::default(); n];
    for (user, relation, at) in &rows.acts {
        if let (Some(i), Some(r)) = (slot(*at), RELATIONS.iter().position(|x| x == relation)) {
            active[i][r].insert(*user);
        }
    }
    let mut participants: Vec<HashSet<i64>> = vec![HashSet::new(); n];
    for (user, starts_at) in &rows.cafe_participants {
        if let Some(i) = slot(*starts_at) {
            participants[i].insert(*user);
        }
    }
    let mut reports: Vec<Vec<Handled>> = vec![Vec::new(); n];
    for &report in &rows.reports {
        if let Some(i) = slot(report.0) {
            reports[i].push(report);
        }
    }
    let mut alerts: Vec<Vec<Handled>> = vec![Vec::new(); n];
    for &alert in &rows.alerts {
        if let Some(i) = slot(alert.0) {
            alerts[i].push(alert);
        }
    }
    let invited = count(&rows.invited);
    let joined = count(&rows.joined);
    let topics = count(&rows.topics);
    let posts = count(&rows.posts);
    let sessions = count(&rows.cafe_sessions);
    let asked = count(&rows.questions_asked);
    let accepted = count(&rows.questions_accepted);
    let answered = count(&rows.questions_answered);
    months
        .into_iter()
        .enumerate()
        .map(|(i, month)| {
            let by_relation = active[i].each_ref().map(|set| set.len() as u64);
            let shown = by_relation.map(Cell::people);
            let active_total = if shown.contains(&Cell::Small) {
                Cell::Hidden
            } else {
                Cell::people(by_relation.iter().sum())
            };
            MonthFigures {
                month,
                invited: Cell::people(invited[i]),
                joined: Cell::people(joined[i]),
                active: shown,
                active_total,
                topics: Cell::Count(topics[i]),
                posts: Cell::Count(posts[i]),
                cafe_sessions: Cell::Count(sessions[i]),
                cafe_participants: Cell::people(participants[i].len() as u64),
                questions_asked: Cell::Count(asked[i]),
                questions_accepted: Cell::Count(accepted[i]),
                questions_answered: Cell::Count(answered[i]),
                reports: Cell::Count(reports[i].len() as u64),
                report_median: median_tenths(&reports[i], 3600),
                alerts: Cell::Count(alerts[i].len() as u64),
                alert_median: median_tenths(&alerts[i], 60),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn tokyo() -> TimeZone {
        TimeZone::get("Asia/Tokyo").expect("zone")
    }

    #[test]
    fn months_are_read_and_bounded() {
        assert_eq!(parse_month("2026-04"), Some(date(2026, 4, 1)));
        assert_eq!(parse_month("2026-4"), Some(date(2026, 4, 1)));
        for bad in [
            "",
            "2026",
            "2026-13",
            "2026-00",
            "26-04",
            "1999-12",
            "abcd-ef",
            "2026-04-01",
        ] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
        assert_eq!(
            MonthRange::parse("2026-05", "2026-04"),
            Err(RangeError::Reversed)
        );
        assert!(MonthRange::parse("2024-01", "2026-12").is_ok(), "36 months");
        assert_eq!(
            MonthRange::parse("2024-01", "2027-01"),
            Err(RangeError::TooLong)
        );
        assert_eq!(
            MonthRange::parse("2026-x", "2026-04"),
            Err(RangeError::BadMonth)
        );
    }

    #[test]
    fn fiscal_years_run_from_april_to_march() {
        let this = MonthRange::this_fiscal_year(date(2027, 2, 14));
        assert_eq!((this.from, this.to), (date(2026, 4, 1), date(2027, 2, 1)));
        let last = MonthRange::last_fiscal_year(date(2027, 2, 14));
        assert_eq!((last.from, last.to), (date(2025, 4, 1), date(2026, 3, 1)));
        let april = MonthRange::this_fiscal_year(date(2026, 4, 1));
        assert_eq!((april.from, april.to), (date(2026, 4, 1), date(2026, 4, 1)));
        assert_eq!(last.months().len(), 12);
    }

    #[test]
    fn months_begin_at_midnight_in_tokyo() {
        let range = MonthRange::parse("2026-05", "2026-05").expect("range");
        let (start, end) = range.bounds(&tokyo());
        // 2026-04-30T15:00:00Z and 2026-05-31T15:00:00Z.
        assert_eq!((start, end), (1_777_561_200, 1_780_239_600));
        assert_eq!(range.slot(&tokyo(), start), Some(0));
        assert_eq!(range.slot(&tokyo(), start - 1), None);
        assert_eq!(range.slot(&tokyo(), end), None);
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![7, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
        let handled = [(0, Some(7_200)), (0, Some(14_400)), (0, None)];
        assert_eq!(median_tenths(&handled, 3600), Cell::Tenths(Some(30)));
        assert_eq!(Cell::Tenths(Some(30)).text(), "3.0");
    }

    #[test]
    fn small_cells_and_the_total_they_would_give_away_are_hidden() {
        let range = MonthRange::parse("2026-05", "2026-05").expect("range");
        let (start, _) = range.bounds(&tokyo());
        let mut acts = Vec::new();
        for (relation, people) in [("patient", 6), ("family", 3), ("supporter", 5)] {
            for i in 0..people {
                acts.push((100 * people + i, relation.to_owned(), start));
            }
        }
        let rows = Rows {
            invited: vec![start; 4],
            joined: vec![start; 5],
            acts,
            ..Rows::default()
        };
        let month = &by_month(range, &tokyo(), &rows)[0];
        assert_eq!(month.invited, Cell::Small);
        assert_eq!(month.joined, Cell::Count(5));
        assert_eq!(month.active, [Cell::Count(6), Cell::Small, Cell::Count(5)]);
        assert_eq!(month.active_total, Cell::Hidden, "14 - 6 - 5 would give 3");
        assert_eq!(Cell::Small.text(), "<5");
        assert_eq!(Cell::people(0), Cell::Small);
    }
}
