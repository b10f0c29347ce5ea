//! The notification preferences form: on the account page (logged in), and on the page a mail's
//! stop link opens (authorised by the link's signature, no login needed). Both check the whole
//! form before changing anything: every kind's mode, and quiet hours given as both ends or none.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::auth::csrf::{CsrfForm, SignedLinkForm};
use crate::auth::rate_limit::ClientAddress;
use crate::auth::session::{RequestContext, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::error::AppResult;
use crate::forums::notify::{UnsubscribeView, check_member_write, signed};
use crate::i18n::Tr;
use crate::notify::{Kind, Mode, Prefs};
use crate::web::form::FieldErrors;
use crate::{App, AppState};

/// The form as posted: each kind's mode by the kind's name, quiet hours as hours ("" for none).
#[derive(Debug, Default, Deserialize)]
pub struct PrefsForm {
    reply: Option<String>,
    mention: Option<String>,
    answer: Option<String>,
    cafe: Option<String>,
    announcement: Option<String>,
    quiet_from: Option<String>,
    quiet_until: Option<String>,
}

impl PrefsForm {
    fn mode_of(&self, kind: Kind) -> Option<&str> {
        match kind {
            Kind::Reply => self.reply.as_deref(),
            Kind::Mention => self.mention.as_deref(),
            Kind::Answer => self.answer.as_deref(),
            Kind::Cafe => self.cafe.as_deref(),
            Kind::Announcement => self.announcement.as_deref(),
        }
    }

    /// The preferences the form asks for, or the locale keys of what is wrong, by field.
    pub fn parse(&self) -> Result<Prefs, Vec<(&'static str, &'static str)>> {
        let mut prefs = Prefs::default();
        let mut problems = Vec::new();
        for kind in Kind::ALL {
            match self.mode_of(kind).and_then(Mode::parse) {
                Some(mode) => prefs.set(kind, mode),
                None => problems.push((kind.as_str(), "notices.prefs.bad_mode")),
            }
        }
        let hour = |raw: &Option<String>| -> Result<Option<i64>, ()> {
            match raw.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(text) => match text.parse::<i64>() {
                    Ok(h) if (0..24).contains(&h) => Ok(Some(h * 60)),
                    _ => Err(()),
                },
            }
        };
        match (hour(&self.quiet_from), hour(&self.quiet_until)) {
            (Err(()), _) => problems.push(("quiet_from", "notices.prefs.quiet_bad")),
            (_, Err(())) => problems.push(("quiet_until", "notices.prefs.quiet_bad")),
            (Ok(None), Ok(None)) => prefs.quiet = None,
            (Ok(Some(from)), Ok(Some(until))) if from == until => {
                problems.push(("quiet_until", "notices.prefs.quiet_same"))
            }
            (Ok(Some(from)), Ok(Some(until))) => prefs.quiet = Some((from, until)),
            (Ok(None), Ok(Some(_))) => problems.push(("quiet_from", "notices.prefs.quiet_both")),
            (Ok(Some(_)), Ok(None)) => problems.push(("quiet_until", "notices.prefs.quiet_both")),
        }
        if problems.is_empty() {
            Ok(prefs)
        } else {
            Err(problems)
        }
    }
}

/// One kind's row of the form.
pub struct PrefRow {
    pub kind: &'static str,
    pub label: String,
    pub mode: &'static str,
}

/// The form as a page shows it (with what was posted, when it comes back with errors).
pub struct PrefsView {
    pub rows: Vec<PrefRow>,
    /// (value, label) of each mode.
    pub modes: Vec<(&'static str, String)>,
    /// (value, label) of each hour, after "none".
    pub hours: Vec<(String, String)>,
    pub quiet_from: String,
    pub quiet_until: String,
    pub errors: FieldErrors,
}

impl PrefsView {
    pub fn of(t: Tr, prefs: &Prefs) -> PrefsView {
        let hour = |m: i64| (m / 60).to_string();
        PrefsView {
            rows: Kind::ALL
                .into_iter()
                .map(|kind| PrefRow {
                    kind: kind.as_str(),
                    label: t.s(&format!("notices.kind.{}", kind.as_str())).into_owned(),
                    mode: prefs.mode(kind).as_str(),
                })
                .collect(),
            modes: Mode::ALL
                .into_iter()
                .map(|m| {
                    (
                        m.as_str(),
                        t.s(&format!("notices.mode.{}", m.as_str())).into_owned(),
                    )
                })
                .collect(),
            hours: std::iter::once((String::new(), t.s("notices.prefs.no_quiet").into_owned()))
                .chain((0..24).map(|h| (h.to_string(), format!("{h:02}:00"))))
                .collect(),
            quiet_from: prefs.quiet.map(|q| hour(q.0)).unwrap_or_default(),
            quiet_until: prefs.quiet.map(|q| hour(q.1)).unwrap_or_default(),
            errors: FieldErrors::default(),
        }
    }

    /// The form again as posted, with what is wrong with it.
    pub fn again(t: Tr, form: &PrefsForm, problems: &[(&'static str, &'static str)]) -> PrefsView {
        let mut prefs = Prefs::default();
        for kind in Kind::ALL {
            if let Some(mode) = form.mode_of(kind).and_then(Mode::parse) {
                prefs.set(kind, mode);
            }
        }
        let mut view = PrefsView::of(t, &prefs);
        let typed = |raw: &Option<String>| {
            raw.as_deref()
                .filter(|h| h.parse::<i64>().is_ok_and(|h| (0..24).contains(&h)))
                .unwrap_or_default()
                .to_owned()
        };
        view.quiet_from = typed(&form.quiet_from);
        view.quiet_until = typed(&form.quiet_until);
        for (field, key) in problems {
            view.errors.add(field, t.s(key).into_owned());
        }
        view
    }

    pub fn mode_label(&self, mode: &str) -> &str {
        self.modes
            .iter()
            .find(|(m, _)| *m == mode)
            .map_or("", |(_, label)| label.as_str())
    }
}

/// Saves a member's preferences in one unit of work.
pub async fn store(app: &App, user_id: i64, prefs: &Prefs) -> AppResult<()> {
    let mut work = app.work().await?;
    for kind in Kind::ALL {
        db::notify::set_pref(
            work.exec(),
            user_id,
            kind.as_str(),
            prefs.mode(kind).as_str(),
        )
        .await?;
    }
    db::notify::set_quiet_hours(work.exec(), user_id, prefs.quiet).await?;
    work.commit().await?;
    Ok(())
}

/// The account page's form.
pub async fn save(
    State(app): State<AppState>,
    ctx: RequestContext,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<PrefsForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Notice)?;
    match form.parse() {
        Ok(prefs) => {
            store(&app, user.id, &prefs).await?;
            SessionData(&ctx.session)
                .set_flash(ctx.tr().s("notify.email_saved").into_owned())
                .await?;
            Ok(Redirect::to("/account#notify-heading").into_response())
        }
        Err(problems) => {
            let notify = PrefsView::again(ctx.tr(), &form, &problems);
            crate::account::settings::notify_form_again(&app, &ctx, &user, notify).await
        }
    }
}

/// The stop link page's form: every kind at once, authorised by the link.
pub async fn save_signed(
    State(app): State<AppState>,
    ctx: RequestContext,
    client: ClientAddress,
    Path(link): Path<(i64, String, String)>,
    SignedLinkForm(form): SignedLinkForm<PrefsForm>,
) -> AppResult<Response> {
    let (user_id, stops) = signed(&app, client, link.clone()).await?;
    check_member_write(&app, user_id).await?;
    match form.parse() {
        Ok(prefs) => {
            store(&app, user_id, &prefs).await?;
            let mut view = UnsubscribeView::new(&app, &ctx, &link, &stops, true).await?;
            view.set_message(ctx.tr().s("notify.email_saved").into_owned());
            view.set_prefs(PrefsView::of(ctx.tr(), &prefs));
            Ok(view.into_response())
        }
        Err(problems) => {
            let mut view = UnsubscribeView::new(&app, &ctx, &link, &stops, false).await?;
            view.set_prefs(PrefsView::again(ctx.tr(), &form, &problems));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(quiet: (&str, &str)) -> PrefsForm {
        PrefsForm {
            reply: Some("now".into()),
            mention: Some("digest".into()),
            answer: Some("off".into()),
            cafe: Some("now".into()),
            announcement: Some("digest".into()),
            quiet_from: Some(quiet.0.into()),
            quiet_until: Some(quiet.1.into()),
        }
    }

    #[test]
    fn a_whole_form_reads_as_preferences() {
        let prefs = form(("22", "7")).parse().expect("valid");
        assert_eq!(prefs.mode(Kind::Mention), Mode::Digest);
        assert_eq!(prefs.mode(Kind::Answer), Mode::Off);
        assert_eq!(prefs.quiet, Some((22 * 60, 7 * 60)));
        assert_eq!(form(("", "")).parse().expect("valid").quiet, None);
    }

    #[test]
    fn bad_forms_say_which_field() {
        let fields = |f: PrefsForm| -> Vec<&str> {
            f.parse()
                .err()
                .unwrap_or_default()
                .iter()
                .map(|p| p.0)
                .collect()
        };
        assert_eq!(fields(form(("22", ""))), vec!["quiet_until"]);
        assert_eq!(fields(form(("", "7"))), vec!["quiet_from"]);
        assert_eq!(fields(form(("7", "7"))), vec!["quiet_until"]);
        assert_eq!(fields(form(("24", "7"))), vec!["quiet_from"]);
        assert_eq!(fields(form(("x", "7"))), vec!["quiet_from"]);
        let mut missing = form(("", ""));
        missing.cafe = None;
        missing.reply = Some("sometimes".into());
        assert_eq!(fields(missing), vec!["reply", "cafe"]);
    }
}
