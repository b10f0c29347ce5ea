//! What a topic title and a post body may be. Limits are stated in the forms too.

pub const MAX_TITLE: usize = 120;
pub const MAX_BODY: usize = 20_000;

/// Why a draft cannot be posted yet; each maps to a message key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftProblem {
    TitleMissing,
    TitleTooLong,
    BodyMissing,
    BodyTooLong,
    MessageMissing,
    MessageTooLong,
    QuestionMissing,
    QuestionTooLong,
    AnswerMissing,
    AnswerTooLong,
}

impl DraftProblem {
    pub fn key(self) -> &'static str {
        match self {
            DraftProblem::TitleMissing => "forums.title_missing",
            DraftProblem::TitleTooLong => "forums.title_too_long",
            DraftProblem::BodyMissing => "forums.body_missing",
            DraftProblem::BodyTooLong => "forums.body_too_long",
            DraftProblem::MessageMissing => "cafe.message_missing",
            DraftProblem::MessageTooLong => "cafe.message_too_long",
            DraftProblem::QuestionMissing => "qa.question_missing",
            DraftProblem::QuestionTooLong => "qa.question_too_long",
            DraftProblem::AnswerMissing => "qa.answer_missing",
            DraftProblem::AnswerTooLong => "qa.answer_too_long",
        }
    }
}

/// A title: trimmed, whitespace folded, 1 to 120 characters.
pub fn title(raw: &str) -> Result<String, DraftProblem> {
    let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    match title.chars().count() {
        0 => Err(DraftProblem::TitleMissing),
        n if n > MAX_TITLE => Err(DraftProblem::TitleTooLong),
        _ => Ok(title),
    }
}

/// A body: line endings normalised, trailing space trimmed, 1 to 20,000 characters.
pub fn body(raw: &str) -> Result<String, DraftProblem> {
    text_of(
        raw,
        MAX_BODY,
        DraftProblem::BodyMissing,
        DraftProblem::BodyTooLong,
    )
}

/// Any written text: line endings normalised, trailing space trimmed, 1 to `max` characters;
/// else `missing` or `too_long`.
pub fn text_of(
    raw: &str,
    max: usize,
    missing: DraftProblem,
    too_long: DraftProblem,
) -> Result<String, DraftProblem> {
    let text = raw.replace("\r\n", "\n").trim_end().to_owned();
    if text.trim().is_empty() {
        return Err(missing);
    }
    if text.chars().count() > max {
        return Err(too_long);
    }
    Ok(text)
}

/// Whether a title or a body is longer than a post may be, as [`title`] and [`body`] measure it:
/// the one limit for drafts too, whatever saves them.
pub fn too_long(raw_title: &str, raw_body: &str) -> Option<DraftProblem> {
    [title(raw_title).err(), body(raw_body).err()]
        .into_iter()
        .flatten()
        .find(|problem| {
            matches!(
                problem,
                DraftProblem::TitleTooLong | DraftProblem::BodyTooLong
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_bodies_have_limits() {
        assert_eq!(
            title("  仕事と  治療の両立  "),
            Ok("仕事と 治療の両立".into())
        );
        assert_eq!(title(" \n "), Err(DraftProblem::TitleMissing));
        assert_eq!(title(&"あ".repeat(121)), Err(DraftProblem::TitleTooLong));
        assert_eq!(body("一行目\r\n二行目\n\n"), Ok("一行目\n二行目".into()));
        assert_eq!(body("   \n"), Err(DraftProblem::BodyMissing));
        assert_eq!(body(&"あ".repeat(20_001)), Err(DraftProblem::BodyTooLong));
        assert_eq!(too_long("", ""), None);
        assert_eq!(too_long("", &"あ".repeat(20_000)), None);
        assert_eq!(
            too_long(&"題".repeat(121), "本文"),
            Some(DraftProblem::TitleTooLong)
        );
        assert_eq!(
            too_long("題", &"a".repeat(1_000_000)),
            Some(DraftProblem::BodyTooLong)
        );
    }
}
