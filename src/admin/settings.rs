//! The site's settings on one page (`/admin/settings`, coordinators only): the site's name, the
//! review threshold, how long invitations stay valid, the time zone and the default language,
//! with a link to the support page's editor. Saved in one unit of work with a log row for each
//! value changed; every instance reads them through `admin::site` within seconds.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::admin::site::{self, SiteValues};
use crate::auth::csrf::CsrfForm;
use crate::auth::session::{Coordinators, RequestContext, Require, SessionData};
use crate::auth::write_limit::WriteKind;
use crate::db;
use crate::db::users::SessionUser;
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::error::AppResult;
use crate::events::Event;
use crate::i18n::{Locale, Tr};
use crate::moderation::log::Choice;
use crate::web::form::FieldErrors;
use crate::web::layout::Layout;

/// The longest site name, in characters.
pub const MAX_SITE_NAME: usize = 40;

#[derive(Deserialize, Default, Clone)]
pub struct SettingsForm {
    #[serde(default)]
    site_name: String,
    #[serde(default)]
    review_threshold: String,
    #[serde(default)]
    invitation_days: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    default_locale: String,
}

impl SettingsForm {
    fn from_values(values: &SiteValues) -> SettingsForm {
        SettingsForm {
            site_name: values.site_name.clone(),
            review_threshold: values.review_threshold.to_string(),
            invitation_days: values.invitation_days.to_string(),
            time_zone: values.time_zone_name().to_owned(),
            default_locale: values.default_locale.as_str().to_owned(),
        }
    }

    /// The settings this form asks for, or what is wrong with each field.
    pub fn values(&self, t: Tr) -> Result<SiteValues, FieldErrors> {
        let mut errors = FieldErrors::default();
        let site_name = self.site_name.trim();
        if site_name.is_empty() {
            errors.add("site_name", t.s("settings.site_name_missing").into_owned());
        } else if site_name.chars().count() > MAX_SITE_NAME {
            errors.add(
                "site_name",
                t.f(
                    "settings.site_name_long",
                    &[("max", &MAX_SITE_NAME.to_string())],
                ),
            );
        }
        let threshold = self.review_threshold.trim().parse::<i64>().ok();
        let threshold = threshold.filter(|n| site::valid_threshold(*n));
        if threshold.is_none() {
            errors.add(
                "review_threshold",
                t.s("settings.review_threshold_invalid").into_owned(),
            );
        }
        let days = self.invitation_days.trim().parse::<u32>().ok();
        let days = days.filter(|d| site::valid_days(*d));
        if days.is_none() {
            errors.add(
                "invitation_days",
                t.s("settings.invitation_days_invalid").into_owned(),
            );
        }
        let zone_name = self.time_zone.trim();
        // Only names of the time zone database (`Asia/Tokyo`), not offsets or rules.
        let zone = jiff::tz::TimeZone::get(zone_name)
            .ok()
            .filter(|z| z.iana_name().is_some() && !zone_name.is_empty());
        if zone.is_none() {
            errors.add("time_zone", t.s("settings.time_zone_invalid").into_owned());
        }
        let locale = Locale::parse(self.default_locale.trim());
        if locale.is_none() {
            errors.add(
                "default_locale",
                t.s("settings.default_locale_invalid").into_owned(),
            );
        }
        match (threshold, days, zone, locale) {
            (
                Some(review_threshold),
                Some(invitation_days),
                Some(time_zone),
                Some(default_locale),
            ) if errors.is_empty() => Ok(SiteValues {
                site_name: site_name.to_owned(),
                invitation_days,
                time_zone,
                review_threshold,
                default_locale,
            }),
            _ => Err(errors),
        }
    }
}

/// Each setting as stored: (name, value).
fn stored(values: &SiteValues) -> [(&'static str, String); 5] {
    [
        (site::SITE_NAME, values.site_name.clone()),
        (site::REVIEW_THRESHOLD, values.review_threshold.to_string()),
        (site::INVITATION_DAYS, values.invitation_days.to_string()),
        (site::TIME_ZONE, values.time_zone_name().to_owned()),
        (
            site::DEFAULT_LOCALE,
            values.default_locale.as_str().to_owned(),
        ),
    ]
}

/// Stores the settings that differ from those in force, each with its log row, in one unit of
/// work; then reads them back, so that the next page here shows them. Returns how many changed.
pub async fn save(app: &AppState, actor: &SessionUser, wanted: &SiteValues) -> AppResult<usize> {
    let current = app.site.get();
    let mut work = app.work().await?;
    let mut changed = 0;
    for ((name, old), (_, new)) in stored(&current).into_iter().zip(stored(wanted)) {
        if old == new {
            continue;
        }
        db::settings::set(work.exec(), name, &new).await?;
        work.log(LogRecord {
            actor_id: Some(actor.id),
            action: Action::SettingChanged,
            target_kind: TargetKind::Setting,
            target_id: None,
            subject_user_id: None,
            reason: format!("{name}: {old} -> {new}"),
        })
        .await?;
        changed += 1;
    }
    if changed == 0 {
        return Ok(0);
    }
    work.announce(Event::SettingsChanged);
    work.commit().await?;
    tracing::info!(actor = actor.id, changed, "site settings saved");
    // Saved either way: should this read fail, the refresh task reads them within seconds.
    if let Err(e) = app.site.reload(&app.db, &app.config).await {
        tracing::warn!(error = %e, "reading the site settings after saving them");
    }
    Ok(changed)
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/settings.html")]
pub struct SettingsView {
    layout: Layout,
    form: SettingsForm,
    locales: Vec<Choice>,
    errors: FieldErrors,
    site_name_max: usize,
}

fn view(
    app: &AppState,
    ctx: &RequestContext,
    form: SettingsForm,
    errors: FieldErrors,
) -> SettingsView {
    let t = ctx.tr();
    SettingsView {
        layout: Layout::titled(app, ctx, "settings.title"),
        locales: Locale::ALL
            .iter()
            .map(|l| Choice {
                value: l.as_str().to_owned(),
                label: t.s(l.label_key()).into_owned(),
                selected: l.as_str() == form.default_locale.trim(),
            })
            .collect(),
        form,
        errors,
        site_name_max: MAX_SITE_NAME,
    }
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
) -> SettingsView {
    let form = SettingsForm::from_values(&app.site.get());
    view(&app, &ctx, form, FieldErrors::default())
}

pub async fn update(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> AppResult<Response> {
    app.writes.check(&user, WriteKind::Setting)?;
    let t = ctx.tr();
    let wanted = match form.values(t) {
        Ok(wanted) => wanted,
        Err(errors) => {
            let page = view(&app, &ctx, form, errors);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let changed = save(&app, &user, &wanted).await?;
    let message = if changed == 0 {
        t.s("settings.unchanged").into_owned()
    } else {
        t.s("settings.saved").into_owned()
    };
    SessionData(&ctx.session).set_flash(message).await?;
    Ok(Redirect::to("/admin/settings").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(zone: &str) -> SettingsForm {
        SettingsForm {
            site_name: " ひなた ".into(),
            review_threshold: "2".into(),
            invitation_days: "14".into(),
            time_zone: zone.into(),
            default_locale: "en".into(),
        }
    }

    #[test]
    fn a_form_gives_settings_or_names_each_wrong_field() {
        let t = Locale::En.tr();
        let values = form("Europe/Berlin").values(t).expect("settings");
        assert_eq!(values.site_name, "ひなた");
        assert_eq!(values.time_zone_name(), "Europe/Berlin");
        assert_eq!(values.default_locale, Locale::En);
        let wrong = |f: SettingsForm| {
            f.values(t)
                .err()
                .map(|e| e.iter().filter_map(|e| e.first_field()).collect::<Vec<_>>())
        };
        for zone in ["", "Tokyo", "+09:00", "Mars/Olympus"] {
            assert_eq!(wrong(form(zone)), Some(vec!["time_zone"]), "{zone:?}");
        }
        let bad = SettingsForm {
            site_name: "x".repeat(MAX_SITE_NAME + 1),
            review_threshold: "-1".into(),
            invitation_days: "91".into(),
            time_zone: "Asia/Tokyo".into(),
            default_locale: "fr".into(),
        };
        assert_eq!(
            wrong(bad),
            Some(vec![
                "site_name",
                "review_threshold",
                "invitation_days",
                "default_locale"
            ])
        );
    }
}
