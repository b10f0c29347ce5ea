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
    pub height: u32,
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
        width: LEFT * 2 + STEP * months.len() as u32,
        height: HEIGHT,
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
