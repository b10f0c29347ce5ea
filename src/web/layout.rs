//! The shared layout every page template extends, and the error page.

use askama::Template;
use askama_web::WebTemplate;

use crate::AppState;
use crate::admin::site::SiteSettings;
use crate::auth::session::{RequestContext, TextSize};
use crate::domain::role::Role;
use crate::i18n::{Locale, PerLocale, Tr};

/// The logged-in member as the navigation shows them.
pub struct Nav {
    pub display_name: String,
    pub is_staff: bool,
    pub is_coordinator: bool,
    /// For staff, when items wait in the review queue: how many, and that said in words.
    pub queue: Option<(i64, String)>,
    /// Unread notifications, when there are some: how many, and that said in words.
    pub unread: Option<(i64, String)>,
}

pub struct Layout {
    pub t: Tr,
    /// The layout's own words, in the page's language.
    pub words: &'static LayoutWords,
    pub site_name: String,
    pub title: String,
    pub csrf: std::sync::Arc<str>,
    pub lang: &'static str,
    pub text_size: TextSize,
    pub nav: Option<Nav>,
    pub flash: Option<String>,
    /// For a silenced member, on every page: why and until when.
    pub silenced: Option<String>,
}

impl Layout {
    pub fn new(app: &AppState, ctx: &RequestContext, title: String) -> Layout {
        Layout {
            t: ctx.tr(),
            words: LayoutWords::of(ctx.locale),
            site_name: app.site.site_name(),
            title,
            csrf: ctx.csrf.clone(),
            lang: ctx.locale.as_str(),
            text_size: ctx.text_size,
            nav: ctx.user.as_ref().map(|u| Nav {
                display_name: u.display_name.clone(),
                is_staff: u.role.is_staff(),
                is_coordinator: u.role == Role::Coordinator,
                queue: Some(app.queue_count.get())
                    .filter(|n| *n > 0 && u.role.is_staff())
                    .map(|n| (n, ctx.tr().count("nav.queue_waiting", n, &[]))),
                unread: Some(u.unread_notices)
                    .filter(|n| *n > 0)
                    .map(|n| (n, ctx.tr().count("notices.unread", n, &[]))),
            }),
            flash: ctx.flash.clone(),
            silenced: ctx.user.as_ref().and_then(|u| {
                let until = u.silenced_at(crate::db::now())?;
                Some(ctx.tr().f(
                    "silence.banner",
                    &[
                        ("until", &local_time(&app.site, until)),
                        ("reason", &u.silence_reason),
                    ],
                ))
            }),
        }
    }

    /// A page titled by a locale key, which may name the site as `%{site}` (the configured
    /// site name, as mails name it).
    pub fn titled(app: &AppState, ctx: &RequestContext, title_key: &str) -> Layout {
        let title = ctx.tr().f(title_key, &[("site", &app.site.site_name())]);
        Layout::new(app, ctx, title)
    }

    pub fn locales(&self) -> [Locale; 2] {
        Locale::ALL
    }

    pub fn text_sizes(&self) -> [TextSize; 3] {
        TextSize::ALL
    }
}

/// Text already escaped for HTML, which templates write as it is.
pub struct Escaped(String);

impl Escaped {
    /// The locale's string for `key`, escaped.
    pub fn word(t: Tr, key: &str) -> Escaped {
        let text = t.s(key);
        match askama::filters::escape(&*text, askama::filters::Html) {
            Ok(escaped) => Escaped(escaped.to_string()),
            Err(never) => match never {},
        }
    }
}

impl std::fmt::Display for Escaped {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        out.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for Escaped {}

/// The words of the layout around every page (navigation, footer, preferences), looked up and
/// escaped once for each language rather than on every page view.
pub struct LayoutWords {
    pub skip: Escaped,
    pub nav: Escaped,
    pub home: Escaped,
    pub forums: Escaped,
    pub cafe: Escaped,
    pub qa: Escaped,
    pub search: Escaped,
    pub queue: Escaped,
    pub staff_home: Escaped,
    pub notifications: Escaped,
    pub account: Escaped,
    pub logout: Escaped,
    pub support: Escaped,
    pub privacy: Escaped,
    pub text_size: Escaped,
    pub language: Escaped,
    sizes: [Escaped; 3],
    languages: [Escaped; 2],
}

impl LayoutWords {
    pub fn of(locale: Locale) -> &'static LayoutWords {
        static WORDS: PerLocale<LayoutWords> = PerLocale::new(LayoutWords::new);
        WORDS.get(locale)
    }

    fn new(t: Tr) -> LayoutWords {
        let word = |key: &str| Escaped::word(t, key);
        LayoutWords {
            skip: word("layout.skip"),
            nav: word("layout.nav"),
            home: word("nav.home"),
            forums: word("nav.forums"),
            cafe: word("nav.cafe"),
            qa: word("nav.qa"),
            search: word("nav.search"),
            queue: word("nav.queue"),
            staff_home: word("nav.staff_home"),
            notifications: word("nav.notifications"),
            account: word("nav.account"),
            logout: word("nav.logout"),
            support: word("layout.support"),
            privacy: word("layout.privacy"),
            text_size: word("prefs.text_size"),
            language: word("prefs.language"),
            sizes: TextSize::ALL.map(|size| word(size.label_key())),
            languages: Locale::ALL.map(|locale| word(locale.label_key())),
        }
    }

    pub fn size(&self, size: &TextSize) -> &Escaped {
        let index = TextSize::ALL.iter().position(|s| s == size).unwrap_or(0);
        &self.sizes[index]
    }

    pub fn language(&self, locale: &Locale) -> &Escaped {
        &self.languages[locale.index()]
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorView {
    pub layout: Layout,
    pub message: String,
}

/// Links to the previous and next page of a list, and where the reader is.
pub struct Pager {
    pub prev: Option<String>,
    pub next: Option<String>,
    pub position: String,
    pub pages: i64,
}

impl Pager {
    /// `base` is the list's path; pages are `?page=N`.
    /// `base` may carry a query of its own (a list's filters): the page is added to it.
    pub fn new(t: Tr, base: &str, page: i64, pages: i64) -> Pager {
        let join = if base.contains('?') { '&' } else { '?' };
        let link = |n: i64| format!("{base}{join}page={n}");
        Pager {
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
            position: t.f(
                "pager.position",
                &[("page", &page.to_string()), ("pages", &pages.to_string())],
            ),
            pages,
        }
    }
}

/// Pages needed for `count` items, at least one.
pub fn pages_for(count: i64, per_page: i64) -> i64 {
    ((count + per_page - 1) / per_page).max(1)
}

/// A time as the site's readers see it (Asia/Tokyo unless configured otherwise).
pub fn local_time(site: &SiteSettings, unix_seconds: i64) -> String {
    in_site_zone(site, unix_seconds, "%Y-%m-%d %H:%M")
}

/// The time of day only ("14:05"), in the site's time zone: for a conversation of one day.
pub fn local_clock(site: &SiteSettings, unix_seconds: i64) -> String {
    in_site_zone(site, unix_seconds, "%H:%M")
}

/// A time in the site's time zone (the setting in force), in a `strftime` format.
pub fn in_site_zone(site: &SiteSettings, unix_seconds: i64, format: &str) -> String {
    jiff::Timestamp::from_second(unix_seconds)
        .map(|ts| ts.to_zoned(site.time_zone()).strftime(format).to_string())
        .unwrap_or_default()
}
