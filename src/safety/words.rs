//! The two lists content is screened against, each on its own page: watched words for
//! moderators and coordinators (`/mod/words`, each word with an action), crisis words for
//! coordinators (`/admin/crisis-words`, seeded with a default). Adding and removing a word is
//! one unit of work with its log row.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::auth::csrf::{CsrfForm, NoFields};
use crate::auth::session::{Coordinators, RequestContext, Require, SessionData, Staff};
use crate::auth::write_limit::WriteKind;
use crate::db::users::SessionUser;
use crate::db::{self, safety::Word};
use crate::domain::log::{Action, LogRecord, TargetKind};
use crate::domain::role::Role;
use crate::domain::safety::{WatchAction, WordList};
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::text::fold_words;
use crate::web::layout::Layout;

/// Words in one list: enough for any community's vocabulary, and a bound on each screening.
pub const MAX_WORDS: usize = 500;
/// Characters in one word or expression.
pub const MAX_WORD_CHARS: usize = 100;

/// Where each list lives, what its page says, and what its changes are logged as.
struct ListInfo {
    path: &'static str,
    /// The prefix of the list's own locale keys (`title`, `lead`, `empty`).
    key: &'static str,
    added: Action,
    removed: Action,
    target: TargetKind,
}

fn info(list: WordList) -> ListInfo {
    match list {
        WordList::Watched => ListInfo {
            path: "/mod/words",
            key: "watched_words",
            added: Action::WatchedWordAdded,
            removed: Action::WatchedWordRemoved,
            target: TargetKind::WatchedWord,
        },
        WordList::Crisis => ListInfo {
            path: "/admin/crisis-words",
            key: "crisis_words",
            added: Action::CrisisWordAdded,
            removed: Action::CrisisWordRemoved,
            target: TargetKind::CrisisWord,
        },
    }
}

fn action_label(t: Tr, action: WatchAction) -> String {
    t.s(&format!("words.action.{}", action.as_str()))
        .into_owned()
}

pub struct WordRow {
    pub id: i64,
    pub word: String,
    /// What the word does, for watched words.
    pub action: Option<String>,
    /// The remove button's name for screen readers: which word it removes.
    pub remove_label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "safety/words.html")]
pub struct WordsView {
    layout: Layout,
    path: &'static str,
    lead: String,
    empty: String,
    /// The actions to choose from (value, label); empty for crisis words.
    actions: Vec<(&'static str, String)>,
    words: Vec<WordRow>,
    /// What was typed, offered back after a refusal.
    word: String,
    action: String,
    errors: Vec<String>,
    hint: String,
    max_chars: usize,
    count: String,
    /// Links to the coordinators' pages (the other list, the support page).
    is_coordinator: bool,
}

async fn view(
    app: &AppState,
    ctx: &RequestContext,
    list: WordList,
    typed: AddForm,
    errors: Vec<String>,
) -> AppResult<WordsView> {
    let t = ctx.tr();
    let info = info(list);
    let stored = {
        let mut conn = app.db.conn().await?;
        db::safety::words(conn.exec(), list).await?
    };
    let actions = match list {
        WordList::Watched => WatchAction::ALL
            .iter()
            .map(|&a| (a.as_str(), action_label(t, a)))
            .collect(),
        WordList::Crisis => Vec::new(),
    };
    Ok(WordsView {
        layout: Layout::titled(app, ctx, &format!("{}.title", info.key)),
        path: info.path,
        lead: t.s(&format!("{}.lead", info.key)).into_owned(),
        empty: t.s(&format!("{}.empty", info.key)).into_owned(),
        actions,
        count: t.f(
            "words.count",
            &[
                ("count", &stored.len().to_string()),
                ("max", &MAX_WORDS.to_string()),
            ],
        ),
        words: stored
            .iter()
            .map(|w| WordRow {
                id: w.id,
                word: w.word.clone(),
                action: w.action().map(|a| action_label(t, a)),
                remove_label: t.f("words.remove_word", &[("word", &w.word)]),
            })
            .collect(),
        word: typed.word,
        action: typed.action,
        errors,
        hint: t.f("words.hint", &[("max", &MAX_WORD_CHARS.to_string())]),
        max_chars: MAX_WORD_CHARS,
        is_coordinator: ctx
            .user
            .as_ref()
            .is_some_and(|u| u.role == Role::Coordinator),
    })
}

pub async fn watched_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Staff>,
) -> AppResult<WordsView> {
    view(
        &app,
        &ctx,
        WordList::Watched,
        AddForm::default(),
        Vec::new(),
    )
    .await
}

pub async fn crisis_page(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(_, _): Require<Coordinators>,
) -> AppResult<WordsView> {
    view(&app, &ctx, WordList::Crisis, AddForm::default(), Vec::new()).await
}

#[derive(Deserialize, Default)]
pub struct AddForm {
    #[serde(default)]
    word: String,
    /// `block`, `hold` or `flag`; watched words only.
    #[serde(default)]
    action: String,
}

/// The word as it will be stored (trimmed, white space runs as one space), or why it cannot be
/// added to a list that holds `existing`.
pub fn check_word(t: Tr, raw: &str, existing: &[Word]) -> Result<String, String> {
    let word = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let folded = fold_words(&word);
    if folded.is_empty() {
        return Err(t.s("words.empty_word").into_owned());
    }
    if word.chars().count() > MAX_WORD_CHARS {
        return Err(t.f("words.too_long", &[("max", &MAX_WORD_CHARS.to_string())]));
    }
    if let Some(same) = existing.iter().find(|w| fold_words(&w.word) == folded) {
        return Err(t.f("words.taken", &[("word", &same.word)]));
    }
    if existing.len() >= MAX_WORDS {
        return Err(t.f("words.full", &[("max", &MAX_WORDS.to_string())]));
    }
    Ok(word)
}

/// Adds a word to `list`, logged in the same transaction; `Err` with the reason when the word
/// or its action cannot be added (nothing is stored then).
pub async fn add_word(
    app: &AppState,
    t: Tr,
    user: &SessionUser,
    list: WordList,
    form: &AddForm,
) -> AppResult<Result<String, String>> {
    let action = match list {
        WordList::Watched => match form.action.parse::<WatchAction>() {
            Ok(action) => Some(action),
            Err(_) => return Ok(Err(t.s("words.choose_action").into_owned())),
        },
        WordList::Crisis => None,
    };
    let info = info(list);
    let mut work = app.work().await?;
    let existing = db::safety::words(work.exec(), list).await?;
    let word = match check_word(t, &form.word, &existing) {
        Ok(word) => word,
        Err(refused) => return Ok(Err(refused)),
    };
    let now = work.now();
    let id = db::safety::add_word(work.exec(), list, &word, action, user.id, now).await?;
    let reason = match action {
        Some(action) => format!("{}: {word}", action.as_str()),
        None => word.clone(),
    };
    work.log(LogRecord::new(user.id, info.added, info.target, id).because(reason))
        .await?;
    work.commit().await?;
    tracing::info!(word = id, list = info.key, "word added");
    Ok(Ok(word))
}

async fn add(
    app: AppState,
    ctx: RequestContext,
    user: &SessionUser,
    list: WordList,
    form: AddForm,
) -> AppResult<Response> {
    app.writes.check(user, WriteKind::Setting)?;
    let t = ctx.tr();
    match add_word(&app, t, user, list, &form).await? {
        Ok(word) => {
            SessionData(&ctx.session)
                .set_flash(t.f("words.added", &[("word", &word)]))
                .await?;
            Ok(Redirect::to(info(list).path).into_response())
        }
        Err(refused) => {
            let page = view(&app, &ctx, list, form, vec![refused]).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

pub async fn add_watched(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    CsrfForm(form): CsrfForm<AddForm>,
) -> AppResult<Response> {
    add(app, ctx, &user, WordList::Watched, form).await
}

pub async fn add_crisis(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    CsrfForm(form): CsrfForm<AddForm>,
) -> AppResult<Response> {
    add(app, ctx, &user, WordList::Crisis, form).await
}

/// Removes word `id` from `list`, logged in the same transaction; its text, or not found.
pub async fn remove_word(
    app: &AppState,
    user: &SessionUser,
    list: WordList,
    id: i64,
) -> AppResult<String> {
    let info = info(list);
    let mut work = app.work().await?;
    let word = db::safety::remove_word(work.exec(), list, id)
        .await?
        .ok_or(AppError::NotFound)?;
    work.log(LogRecord::new(user.id, info.removed, info.target, id).because(word.clone()))
        .await?;
    work.commit().await?;
    tracing::info!(word = id, list = info.key, "word removed");
    Ok(word)
}

async fn remove(
    app: AppState,
    ctx: RequestContext,
    user: &SessionUser,
    list: WordList,
    id: i64,
) -> AppResult<Response> {
    app.writes.check(user, WriteKind::Setting)?;
    let word = remove_word(&app, user, list, id).await?;
    SessionData(&ctx.session)
        .set_flash(ctx.tr().f("words.removed", &[("word", &word)]))
        .await?;
    Ok(Redirect::to(info(list).path).into_response())
}

pub async fn remove_watched(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Staff>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    remove(app, ctx, &user, WordList::Watched, id).await
}

pub async fn remove_crisis(
    State(app): State<AppState>,
    ctx: RequestContext,
    Require(user, _): Require<Coordinators>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> AppResult<Response> {
    remove(app, ctx, &user, WordList::Crisis, id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn words_are_trimmed_folded_for_duplicates_and_bounded() {
        let t = Locale::En.tr();
        let none: Vec<Word> = Vec::new();
        assert_eq!(
            check_word(t, "  want \n to  die ", &none),
            Ok("want to die".into())
        );
        assert!(
            check_word(t, " \u{3000} ", &none).is_err(),
            "nothing to watch"
        );
        assert!(check_word(t, &"あ".repeat(MAX_WORD_CHARS + 1), &none).is_err());
        assert_eq!(
            check_word(t, &"あ".repeat(MAX_WORD_CHARS), &none).map(|w| w.chars().count()),
            Ok(MAX_WORD_CHARS)
        );
    }
}
