//! Statistics for funders (coordinators only): per calendar month in the site's time zone, what
//! the community did, as a page with charts drawn on the server (inline SVG, no script) and as
//! CSV. People are never listed; small numbers of people are hidden (see [`figures`]). Looking
//! at the page writes nothing; each CSV download is written to the typed log, so a funder
//! report's origin can be traced.

pub mod chart;
pub mod figures;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use serde::Deserialize;

use crate::auth::session::{Coordinators, RequestContext, Require};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::web::input::Query;
use crate::web::layout::Layout;
use crate::{App, AppState};
use chart::Chart;
use figures::{COLUMNS, MonthFigures, MonthRange, RangeError, Rows};

/// Reads the rows of `range` (one pooled connection, given back before returning) and counts
/// them by month.
pub async fn figures(app: &App, range: MonthRange) -> AppResult<Vec<MonthFigures>> {
    let zone = &app.config.time_zone;
    let (start, end) = range.bounds(zone);
    let now = db::now();
    let mut conn = app.db.conn().await?;
    let mut exec = conn.exec();
    let rows = Rows {
        invited: db::stats::invited(exec.again(), start, end).await?,
        joined: db::stats::joined(exec.again(), start, end).await?,
        acts: db::stats::acts(exec.again(), start, end).await?,
        topics: db::stats::topics(exec.again(), start, end).await?,
        posts: db::stats::posts(exec.again(), start, end).await?,
        cafe_sessions: db::stats::cafe_sessions(exec.again(), start, end, now).await?,
        cafe_participants: db::stats::cafe_participants(exec.again(), start, end, now).await?,
        questions_asked: db::stats::questions_asked(exec.again(), start, end).await?,
        questions_accepted: db::stats::questions_accepted(exec.again(), start, end).await?,
        questions_answered: db::stats::questions_answered(exec.again(), start, end).await?,
        reports: db::stats::reports(exec.again(), start, end).await?,
        alerts: db::stats::alerts(exec, start, end).await?,
    };
    Ok(figures::by_month(range, zone, &rows))
}

/// Writes down that `coordinator` took the figures of `range` away as CSV.
pub async fn log_export(app: &App, coordinator: i64, range: MonthRange) -> AppResult<()> {
    let mut work = app.work().await?;
    work.log(LogRecord {
        actor_id: Some(coordinator),
        action: Action::StatsExported,
        target_kind: TargetKind::Statistics,
        target_id: None,
        subject_user_id: None,
        reason: range_text(range),
    })
    .await?;
    work.commit().await?;
    Ok(())
}

/// `2026-04..2027-03`.
fn range_text(range: MonthRange) -> String {
    format!(
        "{}..{}",
        MonthRange::label(range.from),
        MonthRange::label(range.to)
    )
}

#[derive(Deserialize)]
pub struct RangeQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

fn today(app: &App) -> Date {
    jiff::Timestamp::now()
        .to_zoned(app.config.time_zone.clone())
        .date()
}

/// The range asked for (this fiscal year when none is), or why it cannot be used.
fn asked_range(app: &App, query: &RangeQuery) -> Result<MonthRange, RangeError> {
    match (&query.from, &query.to) {
        (None, None) => Ok(MonthRange::this_fiscal_year(today(app))),
        (from, to) => MonthRange::parse(
            from.as_deref().unwrap_or_default(),
            to.as_deref().unwrap_or_default(),
        ),
    }
}

/// A preset range, as a link.
pub struct Preset {
    pub label: String,
    pub href: String,
}

pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn headers(t: Tr) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|c| t.s(&format!("stats.col.{c}")).into_owned())
        .collect()
}

fn table(t: Tr, months: &[MonthFigures]) -> Table {
    Table {
        headers: headers(t),
        rows: months
            .iter()
            .map(|m| {
                std::iter::once(MonthRange::label(m.month))
                    .chain(m.cells().iter().map(|c| c.text()))
                    .collect()
            })
            .collect(),
    }
}

fn query_string(range: MonthRange) -> String {
    format!(
        "from={}&to={}",
        MonthRange::label(range.from),
        MonthRange::label(range.to)
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/stats.html")]
pub struct StatsView {
    layout: Layout,
    errors: Vec<String>,
    from: String,
    to: String,
    lead: String,
    month_hint: String,
    presets: Vec<Preset>,
    csv_href: String,
    range_note: String,
    table: Table,
    charts: Vec<Chart>,
}

async fn view(
    app: &AppState,
    ctx: &RequestContext,
    range: MonthRange,
    errors: Vec<String>,
) -> AppResult<StatsView> {
    let t = ctx.tr();
    let months = figures(app, range).await?;
    let zone = app.config.time_zone.iana_name().unwrap_or("UTC");
    let today = today(app);
    let presets = [
        (
            "stats.preset.this_year",
            MonthRange::this_fiscal_year(today),
        ),
        (
            "stats.preset.last_year",
            MonthRange::last_fiscal_year(today),
        ),
    ]
    .into_iter()
    .map(|(key, preset)| Preset {
        label: t.s(key).into_owned(),
        href: format!("/admin/stats?{}", query_string(preset)),
    })
    .collect();
    Ok(StatsView {
        layout: Layout::titled(app, ctx, "stats.title"),
        errors,
        from: MonthRange::label(range.from),
        to: MonthRange::label(range.to),
        lead: t.f("stats.lead", &[("zone", zone)]),
        month_hint: t.f(
            "stats.month_hint",
            &[("max", &figures::MAX_MONTHS.to_string())],
        ),
        presets,
        csv_href: format!("/admin/stats.csv?{}", query_string(range)),
        range_note: t.f(
            "stats.range_note",
            &[
                ("from", &MonthRange::label(range.from)),
                ("to", &MonthRange::label(range.to)),
                ("zone", zone),
            ],
        ),
        table: table(t, &months),
        charts: chart::charts(t, &months),
    })
}

/// The range as asked, or the default with the problem said (and a 422).
async fn page_or_error(
    app: &AppState,
    ctx: &RequestContext,
    query: &RangeQuery,
) -> AppResult<Result<MonthRange, Response>> {
    match asked_range(app, query) {
        Ok(range) => Ok(Ok(range)),
        Err(error) => {
            let t = ctx.tr();
            let message = t.f(error.key(), &[("max", &figures::MAX_MONTHS.to_string())]);
            let default = MonthRange::this_fiscal_year(today(app));
            let page = view(app, ctx, default, vec![message]).await?;
            Ok(Err((StatusCode::UNPROCESSABLE_ENTITY, page).into_response()))
        }
    }
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
    Query(query): Query<RangeQuery>,
) -> AppResult<Response> {
    match page_or_error(&app, &ctx, &query).await? {
        Ok(range) => Ok(view(&app, &ctx, range, Vec::new()).await?.into_response()),
        Err(refused) => Ok(refused),
    }
}

/// The table as CSV: UTF-8 with a byte-order mark (so that Excel reads Japanese), headers in
/// the coordinator's language, the same hidden cells as the page.
pub fn csv_bytes(t: Tr, months: &[MonthFigures]) -> Result<Vec<u8>, AppError> {
    let table = table(t, months);
    let mut out = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let failed = |e: csv::Error| AppError::Internal(format!("writing CSV: {e}"));
    out.write_record(&table.headers).map_err(failed)?;
    for row in &table.rows {
        out.write_record(row).map_err(failed)?;
    }
    out.into_inner()
        .map_err(|e| AppError::Internal(format!("writing CSV: {e}")))
}

pub async fn csv(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Query(query): Query<RangeQuery>,
) -> AppResult<Response> {
    let range = match page_or_error(&app, &ctx, &query).await? {
        Ok(range) => range,
        Err(refused) => return Ok(refused),
    };
    app.writes.check(&user, WriteKind::Export)?;
    let months = figures(&app, range).await?;
    let body = csv_bytes(ctx.tr(), &months)?;
    log_export(&app, user.id, range).await?;
    let filename = format!(
        "hidamari-stats-{}_{}.csv",
        MonthRange::label(range.from),
        MonthRange::label(range.to)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response())
}
