//! "Add to calendar": one café session as an iCalendar file (RFC 5545), with times in UTC so any
//! calendar shows them in its own zone. Text values are escaped and lines folded at 75 octets,
//! never inside a UTF-8 character.

/// One session as a calendar event.
pub struct CalendarEvent<'a> {
    /// Unique and stable for the session: the same file twice is one event, not two.
    pub uid: &'a str,
    /// When the file was made (Unix seconds).
    pub stamp: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub summary: &'a str,
    pub description: &'a str,
    pub url: &'a str,
}

/// The media type of the file.
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// The whole file, CRLF line ends.
pub fn calendar(event: &CalendarEvent<'_>) -> String {
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//hidamari//cafe//JA".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", escape(event.uid)),
        format!("DTSTAMP:{}", utc(event.stamp)),
        format!("DTSTART:{}", utc(event.starts_at)),
        format!("DTEND:{}", utc(event.ends_at)),
        format!("SUMMARY:{}", escape(event.summary)),
        format!("DESCRIPTION:{}", escape(event.description)),
        // A URI value is not TEXT: it is not escaped.
        format!("URL:{}", event.url),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    let mut out = String::new();
    for line in &lines {
        out.push_str(&fold(line));
        out.push_str("\r\n");
    }
    out
}

/// A TEXT value: backslash, semicolon and comma escaped, line ends as `\n`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // Other control characters are not allowed in TEXT.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded so no line is longer than 75 octets: each continuation starts with a
/// space (which counts toward its 75), and a UTF-8 character is never split.
pub fn fold(line: &str) -> String {
    const MAX: usize = 75;
    let mut out = String::with_capacity(line.len() + line.len() / MAX * 3);
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        if used + width > MAX {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += width;
    }
    out
}

/// A UTC date-time: `20261210T100000Z`.
fn utc(unix_seconds: i64) -> String {
    jiff::Timestamp::from_second(unix_seconds)
        .map(|ts| ts.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|_| "19700101T000000Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undoes the folding, as a calendar reading the file does.
    fn unfold(text: &str) -> Vec<String> {
        text.replace("\r\n ", "")
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("家族, 友人; a\\b\r\n二行目\nx\u{7}"),
            "家族\\, 友人\\; a\\\\b\\n二行目\\nx"
        );
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let line = format!("DESCRIPTION:{}", "陽だまりのカフェ".repeat(12));
        let folded = fold(&line);
        for part in folded.split("\r\n") {
            assert!(part.len() <= 75, "{} octets: {part}", part.len());
        }
        assert!(folded.split("\r\n").skip(1).all(|p| p.starts_with(' ')));
        assert_eq!(folded.replace("\r\n ", ""), line);
        assert_eq!(fold("SHORT:x"), "SHORT:x");
    }

    #[test]
    fn an_event_reads_back_with_its_utc_times() {
        let description = "テーマ: 仕事と治療, 両立; ファシリテーター: ひまわり\n".repeat(3);
        let file = calendar(&CalendarEvent {
            uid: "cafe-session-7@example.org",
            stamp: 1_796_000_000,
            starts_at: 1_796_896_800,
            ends_at: 1_796_902_200,
            summary: "家族のカフェ",
            description: &description,
            url: "https://example.org/cafe/2",
        });
        assert!(file.ends_with("END:VCALENDAR\r\n"));
        assert!(file.split("\r\n").all(|l| l.len() <= 75));
        let lines = unfold(&file);
        assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
        assert!(lines.contains(&"DTSTART:20261210T100000Z".to_owned()));
        assert!(lines.contains(&"DTEND:20261210T113000Z".to_owned()));
        assert!(lines.contains(&"UID:cafe-session-7@example.org".to_owned()));
        assert!(lines.contains(&"URL:https://example.org/cafe/2".to_owned()));
        let described = lines
            .iter()
            .find_map(|l| l.strip_prefix("DESCRIPTION:"))
            .expect("a description");
        assert!(
            described.starts_with("テーマ: 仕事と治療\\, 両立\\; "),
            "{described}"
        );
    }
}
