//! The badge by the name of a member of staff or an expert, on their posts and their page: the
//! role in words (not only a colour), so that everyone can tell who speaks for the site or as an
//! expert, and no one can pass for them by name alone.

use crate::domain::role::Role;
use crate::i18n::Tr;

#[derive(Debug, Clone)]
pub struct Badge {
    /// The role as the style names it (`badge-expert`, `badge-moderator`, `badge-coordinator`).
    pub role: &'static str,
    pub label: String,
}

impl Badge {
    /// The badge for `role`: none for members.
    pub fn for_role(t: Tr, role: Role) -> Option<Badge> {
        (role != Role::Member).then(|| Badge {
            role: role.as_str(),
            label: t.s(&format!("role.{role}")).into_owned(),
        })
    }
}
