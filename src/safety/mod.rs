//! Safety: watched words and crisis words, matched on normalised text.

use crate::db::{self, Exec};
use crate::domain::log::TargetKind;
use crate::error::AppError;
use crate::text;
use crate::work::Work;

/// What screening found in a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screening {
    /// The watched word that refuses the text.
    pub block: Option<String>,
    pub hold: bool,
    pub flag: bool,
    pub crisis: bool,
}

fn folded(word: &str) -> String {
    text::normalize(word, &text::Synonyms::default())
}

/// Screens `text` against watched and crisis words.
pub async fn screen(mut exec: Exec<'_>, text: &str) -> Result<Screening, sqlx::Error> {
    let watched = db::safety::watched_words(exec.again()).await?;
    let crisis = db::safety::crisis_words(exec).await?;
    let haystack = folded(text);
    let found = |word: &str| {
        let needle = folded(word);
        !needle.is_empty() && haystack.contains(&needle)
    };
    let mut screening = Screening {
        crisis: crisis.iter().any(|w| found(w)),
        ..Screening::default()
    };
    for (word, action) in watched.iter().filter(|(word, _)| found(word)) {
        match action.as_str() {
            "block" => screening.block = screening.block.take().or(Some(word.clone())),
            "hold" => screening.hold = true,
            _ => screening.flag = true,
        }
    }
    Ok(screening)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertCause {
    CrisisWords,
    WorriedReport,
}

/// An urgent item for moderators.
pub async fn alert(
    work: &mut Work<'_>,
    cause: AlertCause,
    target_kind: TargetKind,
    target_id: i64,
    member: i64,
    _target_link: &str,
) -> Result<(), AppError> {
    let now = work.now();
    let cause = match cause {
        AlertCause::CrisisWords => "crisis_words",
        AlertCause::WorriedReport => "worried_report",
    };
    db::safety::insert_alert(
        work.exec(),
        cause,
        target_kind.as_str(),
        target_id,
        member,
        now,
    )
    .await?;
    work.announce(crate::events::Event::QueueChanged);
    Ok(())
}
