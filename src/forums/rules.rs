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
    let body = raw.replace("\r\n", "\n").trim_end().to_owned();
    if body.trim().is_empty() {
        return Err(DraftProblem::BodyMissing);
    }
    if body.chars().count() > MAX_BODY {
        return Err(DraftProblem::BodyTooLong);
    }
    Ok(body)
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
