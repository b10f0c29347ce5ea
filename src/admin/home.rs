//! The staff's home (`/admin`): every page staff run, in one place. Moderators see the part
//! they may use; coordinators see everything. Each page with no id of its own in a route is
//! linked from here (those with an id are reached from these pages' lists).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::AppState;
use crate::auth::session::{RequestContext, Require, Staff};
use crate::domain::role::Role;
use crate::i18n::Tr;
use crate::web::layout::Layout;

/// A staff page: its address, the lowest role that may use it, and its locale key under
/// `admin_home.link.`.
pub struct StaffPage {
    pub href: &'static str,
    pub min: Role,
    pub key: &'static str,
}

const fn staff_page(href: &'static str, min: Role, key: &'static str) -> StaffPage {
    StaffPage { href, min, key }
}

/// Moderation first (what needs doing now), then the community, then the site.
pub const SECTIONS: [(&str, &[StaffPage]); 3] = [
    (
        "moderation",
        &[
            staff_page("/mod/queue", Role::Moderator, "queue"),
            staff_page("/mod/reports", Role::Moderator, "reports"),
            staff_page("/mod/cafe", Role::Moderator, "cafe_moderation"),
            staff_page("/mod/qa", Role::Moderator, "qa_screening"),
            staff_page("/mod/words", Role::Moderator, "words"),
            staff_page("/mod/log", Role::Moderator, "log"),
        ],
    ),
    (
        "community",
        &[
            staff_page("/admin/members", Role::Moderator, "members"),
            staff_page("/admin/invitations", Role::Coordinator, "invitations"),
            staff_page("/admin/announcements", Role::Coordinator, "announcements"),
            staff_page("/admin/categories", Role::Coordinator, "categories"),
            staff_page("/admin/cafe", Role::Coordinator, "cafe"),
            staff_page("/admin/experts", Role::Coordinator, "experts"),
            staff_page("/qa/slots/new", Role::Coordinator, "qa_slots"),
            staff_page("/admin/stats", Role::Coordinator, "stats"),
        ],
    ),
    (
        "site",
        &[
            staff_page("/admin/settings", Role::Coordinator, "settings"),
            staff_page("/admin/support", Role::Coordinator, "support"),
            staff_page("/admin/crisis-words", Role::Coordinator, "crisis_words"),
            staff_page("/admin/search-terms", Role::Coordinator, "search_terms"),
        ],
    ),
];

pub struct Link {
    pub href: &'static str,
    pub title: String,
    pub text: String,
}

pub struct Section {
    pub heading: String,
    pub links: Vec<Link>,
}

/// The sections and links `role` may use, in its words.
pub fn sections(t: Tr, role: Role) -> Vec<Section> {
    SECTIONS
        .iter()
        .map(|(key, pages)| Section {
            heading: t.s(&format!("admin_home.section.{key}")).into_owned(),
            links: pages
                .iter()
                .filter(|p| role >= p.min)
                .map(|p| Link {
                    href: p.href,
                    title: t
                        .s(&format!("admin_home.link.{}.title", p.key))
                        .into_owned(),
                    text: t.s(&format!("admin_home.link.{}.text", p.key)).into_owned(),
                })
                .collect(),
        })
        .filter(|s| !s.links.is_empty())
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/home.html")]
pub struct StaffHomeView {
    layout: Layout,
    lead: String,
    sections: Vec<Section>,
}

pub async fn page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
) -> StaffHomeView {
    let t = ctx.tr();
    let lead = if user.role == Role::Coordinator {
        "admin_home.lead_coordinator"
    } else {
        "admin_home.lead_moderator"
    };
    StaffHomeView {
        layout: Layout::titled(&app, &ctx, "admin_home.title"),
        lead: t.s(lead).into_owned(),
        sections: sections(t, user.role),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn moderators_see_their_part_and_coordinators_everything() {
        let t = Locale::Ja.tr();
        let hrefs = |role| {
            sections(t, role)
                .into_iter()
                .flat_map(|s| s.links.into_iter().map(|l| l.href))
                .collect::<Vec<_>>()
        };
        let all: Vec<&str> = SECTIONS
            .iter()
            .flat_map(|(_, pages)| pages.iter().map(|p| p.href))
            .collect();
        assert_eq!(hrefs(Role::Coordinator), all);
        let moderator = hrefs(Role::Moderator);
        assert!(moderator.contains(&"/mod/queue") && moderator.contains(&"/admin/members"));
        assert!(!moderator.contains(&"/admin/settings"));
        assert!(hrefs(Role::Member).is_empty());
    }

    #[test]
    fn every_link_has_words_in_both_languages() {
        for locale in Locale::ALL {
            let t = locale.tr();
            for (key, pages) in SECTIONS {
                assert!(t.get(&format!("admin_home.section.{key}")).is_some());
                for p in pages {
                    for part in ["title", "text"] {
                        let k = format!("admin_home.link.{}.{part}", p.key);
                        assert!(t.get(&k).is_some(), "{locale:?} {k}");
                    }
                }
            }
        }
    }
}
