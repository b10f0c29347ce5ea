//! Bar charts drawn on the server as inline SVG: no script, a `viewBox` so that they scale to a
//! phone's width and print, a title and description for screen readers (the numbers are in the
//! table too). A hidden cell has no bar: its label says `<5` or `*`, as in the table.

use super::figures::{Cell, MonthFigures};
use crate::i18n::Tr;

const HEIGHT: u32 = 220;
const BASELINE: u32 = 180;
const TALLEST: u32 = 150;
const LEFT: u32 = 12;
const STEP: u32 = 40;
const BAR: u32 = 26;
/// Charts are at least a year wide, so that a short range does not draw giant bars.
const YEAR: u32 = 12;

pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    /// The middle of the bar, for its labels.
    pub middle: u32,
    pub value_y: u32,
    pub value: String,
    pub month: String,
}

pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub desc: String,
    pub width: u32,
    /// More than a year: scrolls sideways on a narrow screen rather than shrinking its text.
    pub wide: bool,
    pub height: u32,
    pub bar_width: u32,
    pub baseline: u32,
    pub month_y: u32,
    pub bars: Vec<Bar>,
}

fn chart(
    t: Tr,
    id: &'static str,
    title_key: &str,
    months: &[MonthFigures],
    cell: impl Fn(&MonthFigures) -> Cell,
) -> Chart {
    let cells: Vec<Cell> = months.iter().map(&cell).collect();
    let tallest = cells
        .iter()
        .filter_map(|c| c.shown())
        .max()
        .unwrap_or(0)
        .max(1);
    let short = t.s("stats.chart.month_format");
    let bars: Vec<Bar> = months
        .iter()
        .zip(&cells)
        .enumerate()
        .map(|(i, (m, c))| {
            let height = c.shown().map_or(0, |n| {
                u32::try_from(n * u64::from(TALLEST) / tallest).unwrap_or(TALLEST)
            });
            let x = LEFT + i as u32 * STEP + (STEP - BAR) / 2;
            Bar {
                x,
                y: BASELINE - height,
                height,
                middle: x + BAR / 2,
                value_y: BASELINE - height - 4,
                value: c.text(),
                month: m.month.strftime(short.as_ref()).to_string(),
            }
        })
        .collect();
    let listed = months
        .iter()
        .zip(&cells)
        .map(|(m, c)| format!("{} {}", m.month.strftime("%Y-%m"), c.text()))
        .collect::<Vec<_>>()
        .join(t.s("stats.chart.separator").as_ref());
    Chart {
        id,
        title: t.s(title_key).into_owned(),
        desc: t.f("stats.chart.desc", &[("values", &listed)]),
        width: LEFT * 2 + STEP * (months.len() as u32).max(YEAR),
        wide: months.len() as u32 > YEAR,
        height: HEIGHT,
        bar_width: BAR,
        baseline: BASELINE,
        month_y: BASELINE + 18,
        bars,
    }
}

/// The charts of the page: active members, posts, café participants, questions answered.
pub fn charts(t: Tr, months: &[MonthFigures]) -> Vec<Chart> {
    vec![
        chart(t, "chart-active", "stats.chart.active", months, |m| {
            m.active_total
        }),
        chart(t, "chart-posts", "stats.chart.posts", months, |m| m.posts),
        chart(t, "chart-cafe", "stats.chart.cafe", months, |m| {
            m.cafe_participants
        }),
        chart(t, "chart-answered", "stats.chart.answered", months, |m| {
            m.questions_answered
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::stats::figures::{MonthRange, Rows, by_month};
    use crate::i18n::Locale;

    fn months(from: &str, to: &str, posts: usize) -> Vec<MonthFigures> {
        let zone = jiff::tz::TimeZone::get("Asia/Tokyo").expect("zone");
        let range = MonthRange::parse(from, to).expect("range");
        let (start, _) = range.bounds(&zone);
        let rows = Rows {
            invited: vec![start; 7],
            posts: vec![start; posts],
            ..Rows::default()
        };
        by_month(range, &zone, &rows)
    }

    #[test]
    fn hidden_cells_draw_no_bar_and_say_why() {
        let t = Locale::Ja.tr();
        let all = charts(t, &months("2026-05", "2026-06", 4));
        let active = &all[0];
        assert!(active.bars.iter().all(|b| b.height == 0 && b.value == "*"));
        let posts = &all[1];
        assert_eq!(posts.bars[0].height, TALLEST);
        assert_eq!(posts.bars[1].height, 0);
        assert_eq!(posts.bars[0].month, "5月");
        assert!(
            posts.desc.contains("2026-05 4、2026-06 0"),
            "{}",
            posts.desc
        );
        assert_eq!(posts.width, LEFT * 2 + STEP * YEAR, "at least a year wide");
        assert!(!posts.wide);
    }

    #[test]
    fn three_years_scroll_on_a_phone() {
        let chart = &charts(Locale::En.tr(), &months("2024-01", "2026-12", 1))[1];
        assert!(chart.wide);
        assert_eq!(chart.bars.len(), 36);
        assert_eq!(chart.bars[0].month, "Jan");
    }
}
