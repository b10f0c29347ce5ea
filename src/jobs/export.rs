//! Preparing a member's export of their own data: the sections of `db::member_export`, read a
//! batch of rows at a time into the export's parts; once the last is read, a link is mailed to
//! the member (a secret stored hashed, working once and until [`LINK_SECONDS`] have passed).
//! The file itself is put together from the parts when the link is used
//! (`account::export`).

use futures_util::{Stream, stream};
use serde_json::Value;

use super::{Kind, Step};
use crate::AppState;
use crate::admin::site::SiteSettings;
use crate::auth::token;
use crate::db;
use crate::db::jobs::JobRow;
use crate::db::member_export::{self, ExportRow, SECTIONS};
use crate::error::AppError;
use crate::i18n::Locale;
use crate::mail::Mail;
use crate::web::layout::{in_site_zone, local_time};
use crate::work::Work;

/// How long the mailed link works.
pub const LINK_SECONDS: i64 = 48 * 3600;

/// The job's key: one open export per member.
fn key(member: i64) -> String {
    member.to_string()
}

/// Queues an export for `member` in `work`, unless one is being prepared already (`false`).
/// An earlier export's link stops working: its rows and parts are deleted.
pub async fn queue(work: &mut Work<'_>, member: i64) -> Result<bool, AppError> {
    let kind = Kind::Export.name();
    if db::jobs::open_for_update(work.exec(), kind, &key(member))
        .await?
        .is_some()
    {
        return Ok(false);
    }
    member_export::delete_all(work.exec(), member).await?;
    let now = work.now();
    let job = db::jobs::insert(work.exec(), kind, &key(member), "{}", member, now).await?;
    member_export::insert(work.exec(), member, job, now).await?;
    Ok(true)
}

/// The member's export jobs end with them: when they leave, nothing more is prepared.
pub async fn cancel(work: &mut Work<'_>, member: i64) -> Result<(), AppError> {
    db::jobs::delete(work.exec(), Kind::Export.name(), &key(member)).await?;
    Ok(())
}

/// The member's newest export and the job preparing it.
pub async fn latest(
    exec: db::Exec<'_>,
    member: i64,
) -> Result<Option<(ExportRow, super::Status)>, sqlx::Error> {
    let mut exec = exec;
    let Some(export) = member_export::latest(exec.again(), member).await? else {
        return Ok(None);
    };
    let job = db::jobs::latest(exec, Kind::Export.name(), &key(member)).await?;
    Ok(job
        .filter(|job| job.id == export.job_id)
        .map(|job| (export, super::Status::of(&job))))
}

pub(super) async fn batch(work: &mut Work<'_>, job: &JobRow, size: i64) -> Result<Step, AppError> {
    let mut progress = job.progress();
    let Some(export) = member_export::of_job(work.exec(), job.id).await? else {
        // The member left meanwhile, or asked again: nothing to prepare.
        return Ok(Step {
            progress,
            finished: true,
        });
    };
    let member = export.user_id;
    if progress.stage == 0 && progress.cursor_id == 0 && progress.done == 0 {
        let mut total = 0;
        for section in SECTIONS {
            total += member_export::count(work.exec(), section, member).await?;
        }
        progress.total = total;
    }
    let mut budget = size;
    while budget > 0 {
        let Some(section) = usize::try_from(progress.stage)
            .ok()
            .and_then(|i| SECTIONS.get(i))
        else {
            break;
        };
        let asked = budget;
        let rows =
            member_export::rows(work.exec(), section, member, progress.cursor_id, asked).await?;
        let read = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        if !rows.is_empty() {
            member_export::insert_part(work.exec(), export.id, section.name, &rows.join(","))
                .await?;
        }
        progress.done += read;
        budget -= read;
        if read < asked {
            // Fewer than asked for: the section is done.
            progress.stage += 1;
            progress.cursor_id = 0;
        } else {
            progress.cursor_id += read;
        }
    }
    // Rows written while the job runs may make it longer than counted.
    progress.total = progress.total.max(progress.done);
    let finished = usize::try_from(progress.stage).is_ok_and(|i| i >= SECTIONS.len());
    if finished {
        mail_link(work, &export).await?;
    }
    Ok(Step { progress, finished })
}

/// The export is ready: its link is made and mailed to the member, in their language.
async fn mail_link(work: &mut Work<'_>, export: &ExportRow) -> Result<(), AppError> {
    let now = work.now();
    let secret = token::generate();
    let expires_at = now + LINK_SECONDS;
    member_export::mark_ready(work.exec(), export.id, &secret.hash, now, expires_at).await?;
    let member = db::users::session_user(work.exec(), export.user_id).await?;
    let email = db::users::email_of(work.exec(), export.user_id).await?;
    let (Some(member), Some(email)) = (member, email) else {
        return Ok(());
    };
    let app = work.app();
    let link = app
        .config
        .link(&format!("/account/export/{}", secret.secret));
    let expires = local_time(&app.site, expires_at);
    let mail = Mail::DataExport {
        display_name: &member.display_name,
        link: &link,
        expires: &expires,
    };
    work.mail(Locale::from_code(&member.locale), &email, &mail)
        .await
}

/// The file's beginning: what it is, then the opening of its sections.
fn head(site: &SiteSettings, member: i64, prepared_at: i64) -> String {
    let about = [
        ("format", Value::from("hidamari-member-export/1")),
        ("site", Value::from(site.site_name())),
        ("member_id", Value::from(member)),
        (
            "prepared_at",
            Value::from(in_site_zone(site, prepared_at, "%Y-%m-%dT%H:%M:%S%:z")),
        ),
        (
            "times",
            Value::from(
                "times (*_at, *_until) are seconds since 1970-01-01 00:00 UTC; quiet_from and \
                 quiet_until are minutes after midnight in the site's time zone",
            ),
        ),
    ];
    let mut file = String::from("{\n");
    for (key, value) in about {
        file.push_str(&format!("  \"{key}\": {value},\n"));
    }
    file.push_str("  \"sections\": {");
    file
}

/// Writes the file's sections as its parts come, in order: every section appears, an empty
/// list for one without rows, each a list of the rows' JSON objects as the database wrote them.
#[derive(Default)]
struct Sections {
    /// How many sections have been opened.
    opened: usize,
}

impl Sections {
    /// Opens the sections up to `index` (closing the one before), ready for its rows.
    fn open_until(&mut self, index: usize, out: &mut String) {
        while self.opened <= index {
            if self.opened > 0 {
                out.push_str("],");
            }
            out.push_str(&format!("\n    \"{}\": [", SECTIONS[self.opened].name));
            self.opened += 1;
        }
    }

    /// A part's rows; `None` when its section is unknown (a part of an older format).
    fn part(&mut self, section: &str, rows: &str, out: &mut String) -> Option<()> {
        let index = SECTIONS.iter().position(|s| s.name == section)?;
        if index + 1 < self.opened {
            return None;
        }
        let continues = index + 1 == self.opened;
        self.open_until(index, out);
        if continues {
            out.push(',');
        }
        out.push_str(rows);
        Some(())
    }

    /// Every section left, empty, and the file's end.
    fn end(&mut self, out: &mut String) {
        if let Some(last) = SECTIONS.len().checked_sub(1) {
            self.open_until(last, out);
        }
        out.push_str("]\n  }\n}\n");
    }
}

/// The file of export `export_id`, read one part at a time (one connection at a time, and no
/// more than a part in memory whatever the member's data), its parts deleted once it has all
/// been sent; an error ends the download.
pub fn file(
    app: AppState,
    export_id: i64,
    member: i64,
    prepared_at: i64,
) -> impl Stream<Item = Result<String, AppError>> + Send {
    enum Next {
        Head,
        After(i64),
        Done,
    }
    let sections = Sections::default();
    stream::unfold(
        (app, Next::Head, sections),
        move |(app, next, mut sections)| async move {
            let after = match next {
                Next::Done => return None,
                Next::Head => {
                    let head = head(&app.site, member, prepared_at);
                    return Some((Ok(head), (app, Next::After(0), sections)));
                }
                Next::After(after) => after,
            };
            let read = async {
                let mut conn = app.db.conn().await?;
                db::member_export::next_part(conn.exec(), export_id, after).await
            };
            let mut out = String::new();
            match read.await {
                Err(e) => Some((Err(e.into()), (app, Next::Done, sections))),
                Ok(Some((seq, section, rows))) => {
                    if sections.part(&section, &rows, &mut out).is_none() {
                        tracing::warn!(export = export_id, section, "export part skipped");
                    }
                    Some((Ok(out), (app, Next::After(seq), sections)))
                }
                Ok(None) => {
                    sections.end(&mut out);
                    if let Err(e) = forget_parts(&app, export_id).await {
                        tracing::warn!(export = export_id, error = %e, "export parts kept");
                    }
                    Some((Ok(out), (app, Next::Done, sections)))
                }
            }
        },
    )
}

async fn forget_parts(app: &AppState, export_id: i64) -> Result<(), AppError> {
    let mut work = app.work().await?;
    db::member_export::delete_parts(work.exec(), export_id).await?;
    work.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_json_with_every_section_in_order() {
        let config =
            crate::config::Config::for_data_dir(std::path::Path::new("/nonexistent"), None)
                .expect("defaults");
        let site = SiteSettings::new(crate::admin::site::SiteValues::defaults(&config));
        let mut text = head(&site, 7, 1_800_000_000);
        let mut sections = Sections::default();
        for (section, rows) in [
            ("account", r#"{"id":7}"#),
            ("posts", r#"{"id":1,"body_markdown":"a\"b"}"#),
            ("posts", r#"{"id":2,"body_markdown":"c"},{"id":3}"#),
            ("answers_written", r#"{"question_id":4}"#),
        ] {
            sections
                .part(section, rows, &mut text)
                .expect("a known section");
        }
        assert!(
            sections.part("account", "{}", &mut text).is_none(),
            "out of order"
        );
        assert!(sections.part("nothing", "{}", &mut text).is_none());
        sections.end(&mut text);
        let json: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(json["member_id"], 7);
        let found = json["sections"].as_object().expect("sections");
        assert_eq!(found.len(), SECTIONS.len());
        assert_eq!(json["sections"]["posts"][2]["id"], 3);
        assert_eq!(json["sections"]["posts"][0]["body_markdown"], "a\"b");
        assert_eq!(json["sections"]["drafts"], serde_json::json!([]));
        assert_eq!(json["sections"]["answers_written"][0]["question_id"], 4);
        assert!(
            json["prepared_at"]
                .as_str()
                .is_some_and(|t| t.ends_with("+09:00"))
        );
        // Nothing but the first and last sections.
        let mut empty = head(&site, 7, 0);
        Sections::default().end(&mut empty);
        let json: Value = serde_json::from_str(&empty).expect("valid JSON");
        assert_eq!(json["sections"]["account"], serde_json::json!([]));
    }
}
