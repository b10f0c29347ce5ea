//! Safety: watched words (block, hold, flag), crisis words, urgent alerts to staff, and the
//! support resources page.
//!
//! Words are matched on folded text ([`text::fold_words`]: NFKC, lower case, hiragana, single
//! spaces), so 「シニタイ」, 「ｼﾆﾀｲ」 and 「しにたい」 meet, and "Want To Die" meets "want to die".
//! There are no word boundaries (Japanese has none): a word matches anywhere in the text. Both
//! lists are capped at the forms ([`words::MAX_WORDS`] words of [`words::MAX_WORD_CHARS`]
//! characters), and all words are found in one pass over the text, so screening a post costs
//! one query and time linear in the text.

pub mod support;
pub mod words;

use aho_corasick::{AhoCorasick, MatchKind};
use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use crate::db::{self, Exec};
use crate::domain::log::TargetKind;
pub use crate::domain::safety::AlertCause;
use crate::domain::safety::WatchAction;
use crate::error::AppError;
use crate::events::Event;
use crate::i18n::Locale;
use crate::mail::Mail;
use crate::text::fold_words;
use crate::work::Work;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/support", get(support::page))
        .route(
            "/admin/support",
            get(support::edit_page).post(support::save),
        )
        .route(
            "/mod/words",
            get(words::watched_page).post(words::add_watched),
        )
        .route("/mod/words/{id}/delete", post(words::remove_watched))
        .route(
            "/admin/crisis-words",
            get(words::crisis_page).post(words::add_crisis),
        )
        .route(
            "/admin/crisis-words/{id}/delete",
            post(words::remove_crisis),
        )
}

/// What the words found in a text ask for.
///
/// Crisis words win: content that carries them is never blocked or held (it goes through, the
/// writer is shown the support page, staff are alerted). A blocking or holding word found with
/// them is reported as a flag instead, so that moderators still see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screening {
    /// The watched word that blocks, as stored (the first one in the text).
    pub block: Option<String>,
    pub hold: bool,
    pub flag: bool,
    pub crisis: bool,
}

/// Screens `text` (title and body as typed) against watched and crisis words, read in the
/// caller's transaction or connection.
pub async fn screen(exec: Exec<'_>, text: &str) -> Result<Screening, sqlx::Error> {
    let words = db::safety::screening_words(exec).await?;
    screen_words(&words, text).map_err(|e| sqlx::Error::Protocol(format!("word matcher: {e}")))
}

/// [`screen`] against `words` (each as stored, with its watched action, or `None` for a
/// crisis word).
fn screen_words(
    words: &[(String, Option<WatchAction>)],
    text: &str,
) -> Result<Screening, aho_corasick::BuildError> {
    let mut owners = Vec::with_capacity(words.len());
    let mut patterns = Vec::with_capacity(words.len());
    for (index, (word, _)) in words.iter().enumerate() {
        let folded = fold_words(word);
        if !folded.is_empty() {
            owners.push(index);
            patterns.push(folded);
        }
    }
    let mut screening = Screening::default();
    if patterns.is_empty() {
        return Ok(screening);
    }
    // Overlapping matches: a short watched word inside a crisis expression must not hide it.
    let matcher = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&patterns)?;
    for found in matcher.find_overlapping_iter(&fold_words(text)) {
        let (word, action) = &words[owners[found.pattern().as_usize()]];
        match action {
            Some(WatchAction::Block) => {
                screening.block.get_or_insert_with(|| word.clone());
            }
            Some(WatchAction::Hold) => screening.hold = true,
            Some(WatchAction::Flag) => screening.flag = true,
            None => screening.crisis = true,
        }
    }
    if screening.crisis {
        screening.flag |= screening.block.take().is_some() | std::mem::take(&mut screening.hold);
    }
    Ok(screening)
}

/// An urgent alert: inserts an `alerts` row (the cause, what it is about, the member concerned)
/// and writes an urgent e-mail to every active moderator and coordinator, each once, with a link
/// to the item (`target_link` is a site path such as "/p/12"), in `work`'s transaction; the
/// queue hears of it once the work commits.
pub async fn alert(
    work: &mut Work<'_>,
    cause: AlertCause,
    target_kind: TargetKind,
    target_id: i64,
    member: i64,
    target_link: &str,
) -> Result<(), AppError> {
    let now = work.now();
    let id =
        db::safety::insert_alert(work.exec(), cause, target_kind, target_id, member, now).await?;
    let link = work.app().config.link(target_link);
    let staff = db::safety::staff_recipients(work.exec()).await?;
    for (address, locale) in &staff {
        let mail = Mail::UrgentAlert { cause, link: &link };
        work.mail(Locale::from_code(locale), address, &mail).await?;
    }
    tracing::warn!(
        alert = id,
        cause = cause.as_str(),
        staff = staff.len(),
        "urgent alert"
    );
    work.announce(Event::QueueChanged);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Vec<(String, Option<WatchAction>)> {
        [
            ("死にたい", None),
            ("いなくなりたい", None),
            ("want to die", None),
            ("ｻﾌﾟﾘ", Some(WatchAction::Flag)),
            ("ＦＲＥＥ ＭＯＮＥＹ", Some(WatchAction::Block)),
            ("必ず治る", Some(WatchAction::Hold)),
            ("死", Some(WatchAction::Flag)),
        ]
        .into_iter()
        .map(|(w, a)| (w.to_owned(), a))
        .collect()
    }

    fn screened(text: &str) -> Screening {
        screen_words(&words(), text).expect("a matcher")
    }

    #[test]
    fn nothing_found_asks_for_nothing() {
        assert_eq!(
            screened("今日は病院の帰りに公園へ行きました。"),
            Screening::default()
        );
        assert_eq!(
            screen_words(&[], "死にたい").ok(),
            Some(Screening::default())
        );
    }

    #[test]
    fn japanese_matches_without_word_boundaries() {
        let s = screened("この薬で必ず治るそうです");
        assert!(s.hold && !s.flag && !s.crisis && s.block.is_none(), "{s:?}");
    }

    #[test]
    fn katakana_hiragana_and_widths_meet() {
        for text in ["サプリを買いました", "さぷりを買いました", "ｻﾌﾟﾘ"] {
            assert!(screened(text).flag, "{text}");
        }
        let s = screened("もう イナクナリタイ");
        assert!(s.crisis, "katakana of a crisis word: {s:?}");
        assert!(screened("ｲﾅｸﾅﾘﾀｲ").crisis, "half-width katakana");
    }

    #[test]
    fn english_ignores_case_width_and_spacing() {
        assert_eq!(
            screened("Get Free   Money now").block.as_deref(),
            Some("ＦＲＥＥ ＭＯＮＥＹ"),
            "the word as stored"
        );
        assert!(screened("I WANT TO\nDIE").crisis);
        assert!(screened("ｗａｎｔ ｔｏ ｄｉｅ").crisis);
        assert!(!screened("want today").crisis);
    }

    #[test]
    fn crisis_words_are_never_blocked_or_held() {
        let s = screened("free money... 死にたい。必ず治ると言われたのに");
        assert!(s.crisis);
        assert_eq!(s.block, None);
        assert!(!s.hold);
        assert!(
            s.flag,
            "the blocking and holding words still reach a moderator"
        );
    }

    #[test]
    fn a_short_word_inside_a_crisis_word_hides_neither() {
        let s = screened("死にたい");
        assert!(s.crisis && s.flag, "{s:?}");
    }

    #[test]
    fn words_that_fold_to_nothing_are_ignored() {
        let words = vec![(" \u{3000} ".to_owned(), Some(WatchAction::Block))];
        assert_eq!(
            screen_words(&words, "なんでも").ok(),
            Some(Screening::default())
        );
    }
}
