//! Markdown for posts: turned into sanitized HTML once, when a post is written, and into a short
//! plain-text excerpt for topic lists and notifications.
//!
//! What a post can contain:
//! - paragraphs, emphasis, strong, strikethrough (`~~x~~`), inline code, code blocks, block
//!   quotes, lists, rules, tables, links, headings;
//! - a line break in the source is a line break on the page (people write line by line);
//! - headings are moved down two levels (`#` is `<h3>`, `##` is `<h4>`, ... never above `<h6>`)
//!   so a post never outranks the page's own headings;
//! - links only to `http:`, `https:` and `mailto:` addresses, written out in their normalized
//!   form, and always with `rel="nofollow noopener noreferrer"`. Any other link (`javascript:`,
//!   `data:`, relative, `//host`, ...) is shown as its text alone;
//! - no images: `![alt](url)` is shown as its alt text alone (nothing is loaded from elsewhere,
//!   and no link is made to the picture); an image without alt text shows nothing;
//! - raw HTML is never passed through: it is shown as the text that was typed.
//!
//! The HTML from Markdown is then cleaned by ammonia with an explicit allow-list, so whatever
//! slips past the first step still cannot carry scripts, styles, classes, ids or event handlers.

use std::sync::LazyLock;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

/// Elements a rendered post may contain.
const ALLOWED_TAGS: &[&str] = &[
    "p",
    "br",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
];

/// Link schemes a post may use.
const ALLOWED_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Block quotes and lists nested deeper than this are flattened into the level above: nobody
/// writes them, and the HTML parser in the sanitizer takes quadratic time over nesting depth.
const MAX_NESTING: usize = 8;

/// The `rel` every link gets.
const LINK_REL: &str = "nofollow noopener noreferrer";

fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(ALLOWED_TAGS.iter().copied().collect())
        .generic_attributes(Default::default())
        .tag_attributes(
            [
                ("a", ["href", "title"].into_iter().collect()),
                // `3. item` starts a list at 3.
                ("ol", ["start"].into_iter().collect()),
            ]
            .into_iter()
            .collect(),
        )
        .url_schemes(ALLOWED_SCHEMES.iter().copied().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some(LINK_REL))
        .strip_comments(true);
    builder
});

/// Renders a post's Markdown as sanitized HTML, safe to insert into a page unescaped.
pub fn render(markdown: &str) -> String {
    let events = post_events(Parser::new_ext(markdown, markdown_options()));
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    SANITIZER.clean(&html).to_string()
}

/// The first `max_chars` characters of a post as plain text, whitespace collapsed, ending in
/// "…" when there was more. Plain text, not HTML: it must be escaped where it is shown.
pub fn excerpt(markdown: &str, max_chars: usize) -> String {
    let collapsed = plain_text(markdown);
    let Some((cut, _)) = collapsed.char_indices().nth(max_chars) else {
        return collapsed;
    };
    let mut kept = &collapsed[..cut];
    // Do not split a character from the marks, joiners or modifiers that belong to it.
    let mut next = collapsed[cut..].chars().next();
    while let Some(last) = kept.chars().next_back() {
        if !(last == '\u{200D}' || next.is_some_and(continues_character)) {
            break;
        }
        kept = &kept[..kept.len() - last.len_utf8()];
        next = Some(last);
    }
    let mut out = kept.trim_end().to_string();
    out.push('…');
    out
}

/// A post as a reader sees it, as plain text: the words without the Markdown syntax (no `**`,
/// no list marks, a link's text without its address, an image's alt text), raw HTML as the text
/// that was typed, blocks and lines separated by one space. Not HTML: escape it where shown.
pub fn plain_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                text.push_str(&t)
            }
            // Between blocks and lines; inline elements (emphasis, links) join their neighbours.
            Event::SoftBreak
            | Event::HardBreak
            | Event::Rule
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock
                | TagEnd::HtmlBlock
                | TagEnd::List(_)
                | TagEnd::Item
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::TableCell,
            ) => text.push(' '),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    words.join(" ")
}

/// Whether `c` belongs to the character before it: combining marks, zero-width joiners,
/// variation selectors and emoji skin-tone modifiers.
fn continues_character(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
        || matches!(c,
            '\u{200D}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}'
            | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}')
}

/// The parser's events, rewritten for posts (see the module documentation).
fn post_events<'a>(parser: Parser<'a>) -> Vec<Event<'a>> {
    let mut out = Vec::new();
    // For each open link: whether it was kept (its end tag must then be kept too).
    let mut links: Vec<bool> = Vec::new();
    // For each open block quote, list and list item: whether it was kept.
    let mut blocks: Vec<bool> = Vec::new();
    let mut kept_levels = 0;
    // Lines of the raw HTML block being read.
    let mut html_block: Option<Vec<CowStr<'a>>> = None;
    for event in parser {
        if let Some(lines) = html_block.as_mut() {
            match event {
                Event::End(TagEnd::HtmlBlock) => {
                    let lines = html_block.take().unwrap_or_default();
                    raw_block_as_paragraph(lines, &mut out);
                }
                Event::Html(t) | Event::Text(t) | Event::InlineHtml(t) => lines.push(t),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::HtmlBlock) => html_block = Some(Vec::new()),
            Event::Html(t) | Event::InlineHtml(t) => out.push(Event::Text(t)),
            Event::SoftBreak => out.push(Event::HardBreak),
            Event::Start(Tag::Heading { level, .. }) => out.push(Event::Start(Tag::Heading {
                level: lower_heading(level),
                id: None,
                classes: Vec::new(),
                attrs: Vec::new(),
            })),
            Event::End(TagEnd::Heading(level)) => {
                out.push(Event::End(TagEnd::Heading(lower_heading(level))))
            }
            // Images show their alt text, which comes as the events between these two.
            Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => {}
            Event::Start(tag @ (Tag::BlockQuote(_) | Tag::List(_))) => {
                let keep = kept_levels < MAX_NESTING;
                blocks.push(keep);
                if keep {
                    kept_levels += 1;
                    out.push(Event::Start(tag));
                }
            }
            Event::Start(Tag::Item) => {
                // An item is kept with its list.
                let keep = blocks.last().copied().unwrap_or(true);
                blocks.push(keep);
                out.push(if keep {
                    Event::Start(Tag::Item)
                } else {
                    // Flattened items start on lines of their own.
                    Event::HardBreak
                });
            }
            Event::End(end @ (TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item)) => {
                let kept = blocks.pop().unwrap_or(true);
                if kept {
                    if !matches!(end, TagEnd::Item) {
                        kept_levels -= 1;
                    }
                    out.push(Event::End(end));
                }
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => match allowed_link(link_type, &dest_url) {
                Some(url) => {
                    links.push(true);
                    out.push(Event::Start(Tag::Link {
                        link_type: LinkType::Inline,
                        dest_url: url.into(),
                        title,
                        id,
                    }));
                }
                None => links.push(false),
            },
            Event::End(TagEnd::Link) => {
                if links.pop().unwrap_or(false) {
                    out.push(Event::End(TagEnd::Link));
                }
            }
            other => out.push(other),
        }
    }
    if let Some(lines) = html_block {
        raw_block_as_paragraph(lines, &mut out);
    }
    out
}

/// A raw HTML block is shown as a paragraph of the text that was typed, line by line.
fn raw_block_as_paragraph<'a>(lines: Vec<CowStr<'a>>, out: &mut Vec<Event<'a>>) {
    let text: String = lines.iter().map(|l| &**l).collect();
    let text = text.trim_end_matches(['\n', '\r']);
    if text.trim().is_empty() {
        return;
    }
    out.push(Event::Start(Tag::Paragraph));
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push(Event::HardBreak);
        }
        out.push(Event::Text(CowStr::from(line.to_string())));
    }
    out.push(Event::End(TagEnd::Paragraph));
}

/// `#` becomes `<h3>`, `##` `<h4>`, `###` `<h5>`, and everything smaller `<h6>`.
fn lower_heading(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// The normalized address a link may point to, or `None` when the link must not be made.
fn allowed_link(link_type: LinkType, dest: &str) -> Option<String> {
    let dest = dest.trim();
    let url = match link_type {
        LinkType::Email => url::Url::parse(&format!("mailto:{dest}")),
        _ => url::Url::parse(dest),
    }
    .ok()?;
    if !ALLOWED_SCHEMES.contains(&url.scheme()) {
        return None;
    }
    if url.scheme() != "mailto" {
        // Written out in full, as `http://host`: `http:host` and `https:\\host` are read
        // differently by browsers and by URL libraries.
        let full = format!("{}://", url.scheme());
        let written = dest.get(..full.len()).unwrap_or("");
        if !written.eq_ignore_ascii_case(&full) || url.host_str().is_none_or(str::is_empty) {
            return None;
        }
    }
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element and attribute in `html` is on the allow-list, and every address is absolute
    /// http, https or mailto.
    fn assert_clean(input: &str, html: &str) {
        let doc = scraper::Html::parse_fragment(html);
        for node in doc.tree.nodes() {
            let Some(el) = node.value().as_element() else {
                continue;
            };
            let name = el.name();
            // The fragment parser's own wrappers.
            if name == "html" || name == "body" {
                continue;
            }
            assert!(
                ALLOWED_TAGS.contains(&name),
                "{input:?} gave <{name}> in {html}"
            );
            for (attr, value) in el.attrs() {
                let ok = match (name, attr) {
                    ("a", "href") => {
                        let v = value.to_ascii_lowercase();
                        v.starts_with("http://")
                            || v.starts_with("https://")
                            || v.starts_with("mailto:")
                    }
                    ("a", "rel") => value == LINK_REL,
                    ("a", "title") | ("ol", "start") => true,
                    _ => false,
                };
                assert!(ok, "{input:?} gave {attr}={value:?} on <{name}> in {html}");
            }
            if name == "a" {
                assert_eq!(el.attr("rel"), Some(LINK_REL), "{input:?} gave {html}");
            }
        }
        let lower = html.to_lowercase();
        for bad in [
            "<script", "<img", "<iframe", "<svg", "<style", "<div", "<b ", "<b>", "<html", "<body",
        ] {
            assert!(!lower.contains(bad), "{input:?} gave {bad:?} in {html}");
        }
        let markup = markup(html);
        for bad in [
            "script",
            "onerror",
            "onload",
            "onclick",
            "onmouseover",
            "javascript:",
            "vbscript:",
            "data:",
            "style",
            "class",
            "img",
            "iframe",
            "svg",
            "target",
        ] {
            assert!(
                !markup.contains(bad),
                "{input:?} gave {bad:?} in markup {html}"
            );
        }
    }

    /// The element and attribute names in `html`, without text or attribute values. Text escapes
    /// `<` and values escape `"`, so what is left is all the markup there is.
    fn markup(html: &str) -> String {
        html.split('<')
            .skip(1)
            .map(|tag| tag.split('>').next().unwrap_or(""))
            .flat_map(|tag| tag.split('"').step_by(2))
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }

    /// Renders, checks the output against the allow-list, and returns it.
    fn clean(input: &str) -> String {
        let html = render(input);
        assert_clean(input, &html);
        html
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        // (input, text that must still be readable in the output)
        let cases = [
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            (
                "<img src=x onerror=alert(1)>",
                "&lt;img src=x onerror=alert(1)&gt;",
            ),
            (
                r#"<a href="http://e.com" onclick="x()">"#,
                r#"&lt;a href="http://e.com" onclick="x()"&gt;"#,
            ),
            (
                "<div><p><b onmouseover=x>hi</b></p></div>",
                "&lt;div&gt;&lt;p&gt;&lt;b onmouseover=x&gt;hi&lt;/b&gt;&lt;/p&gt;&lt;/div&gt;",
            ),
            ("<iframe src=//evil>", "&lt;iframe src=//evil&gt;"),
            ("<svg onload=alert(1)>", "&lt;svg onload=alert(1)&gt;"),
            ("<style>body{}</style>", "&lt;style&gt;body{}&lt;/style&gt;"),
            (
                "say <b onmouseover=x>hi</b> there",
                "say &lt;b onmouseover=x&gt;hi&lt;/b&gt; there",
            ),
            ("a <!-- hidden --> b", "a &lt;!-- hidden --&gt; b"),
        ];
        for (input, shown) in cases {
            let html = clean(input);
            assert!(html.contains(shown), "{input:?} gave {html}");
            assert!(html.starts_with("<p>"), "{input:?} gave {html}");
        }
    }

    #[test]
    fn raw_html_block_keeps_its_lines() {
        let html = clean("<div>\n<b onmouseover=x>hi</b>\n</div>\n\nafter");
        assert_eq!(
            html,
            "<p>&lt;div&gt;<br>\n&lt;b onmouseover=x&gt;hi&lt;/b&gt;<br>\n&lt;/div&gt;</p>\n<p>after</p>\n"
        );
    }

    #[test]
    fn dangerous_links_become_plain_text() {
        let cases = [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java\tscript:alert(1))",
            "[x](<java script:alert(1)>)",
            "[x](&#106;avascript:alert(1))",
            "[x](%6Aavascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "[x](//evil.example)",
            "[x](/relative)",
            "[x](#fragment)",
            "[x](http:evil)",
            "[x](file:///etc/passwd)",
            "[x]: javascript:alert(1)\n\nsee [x]",
        ];
        for input in cases {
            let html = clean(input);
            let lower = html.to_lowercase();
            for bad in ["<a", "javascript:", "data:", "vbscript:", "href"] {
                assert!(!lower.contains(bad), "{input:?} gave {bad:?} in {html}");
            }
            assert!(html.contains('x'), "{input:?} lost its text: {html}");
        }
        // An autolink with another scheme is shown as the text that was typed, not as a link.
        assert_eq!(
            clean("<javascript:alert(1)>"),
            "<p>javascript:alert(1)</p>\n"
        );
    }

    #[test]
    fn images_are_not_shown() {
        let html = clean("![t](http://evil.example/t.png)");
        assert_eq!(html, "<p>t</p>\n");
        assert!(!html.contains("evil"));
        let html = clean("look ![a **cat**](https://evil.example/c.png) here");
        assert_eq!(html, "<p>look a <strong>cat</strong> here</p>\n");
        let html = clean("[![logo](https://evil.example/l.png)](https://example.org)");
        assert_eq!(
            html,
            "<p><a href=\"https://example.org/\" rel=\"nofollow noopener noreferrer\">logo</a></p>\n"
        );
        assert_eq!(clean("![](https://evil.example/x.png)"), "<p></p>\n");
    }

    #[test]
    fn good_links_are_kept_with_rel() {
        assert_eq!(
            clean("[ok](https://example.org \"title\")"),
            "<p><a href=\"https://example.org/\" title=\"title\" \
             rel=\"nofollow noopener noreferrer\">ok</a></p>\n"
        );
        assert_eq!(
            clean("<http://example.org>"),
            "<p><a href=\"http://example.org/\" rel=\"nofollow noopener noreferrer\">\
             http://example.org</a></p>\n"
        );
        assert_eq!(
            clean("<someone@example.org>"),
            "<p><a href=\"mailto:someone@example.org\" rel=\"nofollow noopener noreferrer\">\
             someone@example.org</a></p>\n"
        );
        let html = clean("[病院](https://example.jp/案内?q=がん)");
        assert!(
            html.contains("href=\"https://example.jp/%E6%A1%88%E5%86%85?q=%E3%81%8C%E3%82%93\""),
            "{html}"
        );
        assert!(html.contains(">病院</a>"), "{html}");
        let html = clean("[x](https://example.org/\"onmouseover=\"alert(1))");
        assert!(!html.contains("\" onmouseover"), "{html}");
    }

    #[test]
    fn japanese_emphasis_and_line_breaks() {
        assert_eq!(
            clean("**太字**と*斜体*"),
            "<p><strong>太字</strong>と<em>斜体</em></p>\n"
        );
        assert_eq!(clean("一行目\n二行目"), "<p>一行目<br>\n二行目</p>\n");
        assert_eq!(clean("~~消す~~"), "<p><del>消す</del></p>\n");
    }

    #[test]
    fn code_is_escaped() {
        let html = clean("```html\n<b>bold</b>\n```");
        assert_eq!(html, "<pre><code>&lt;b&gt;bold&lt;/b&gt;\n</code></pre>\n");
        assert_eq!(
            clean("use `<script>` here"),
            "<p>use <code>&lt;script&gt;</code> here</p>\n"
        );
    }

    #[test]
    fn tables_lose_their_alignment_style() {
        let html = clean("| 薬 | 量 |\n|:--|--:|\n| A | 1 |\n| B | 2 |");
        assert_eq!(
            html,
            "<table><thead><tr><th>薬</th><th>量</th></tr></thead><tbody>\n\
             <tr><td>A</td><td>1</td></tr>\n<tr><td>B</td><td>2</td></tr>\n</tbody></table>\n"
        );
    }

    #[test]
    fn headings_are_lowered() {
        assert_eq!(
            clean("# a\n## b\n### c\n#### d\n###### e\nf\n---"),
            "<h3>a</h3>\n<h4>b</h4>\n<h5>c</h5>\n<h6>d</h6>\n<h6>e</h6>\n<h4>f</h4>\n"
        );
    }

    #[test]
    fn other_blocks() {
        assert_eq!(
            clean("> 引用\n\n3. three\n4. four\n\n- a\n\n***"),
            "<blockquote>\n<p>引用</p>\n</blockquote>\n<ol start=\"3\">\n<li>three</li>\n\
             <li>four</li>\n</ol>\n<ul>\n<li>a</li>\n</ul>\n<hr>\n"
        );
        assert_eq!(clean(""), "");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        for input in [
            ">".repeat(20_000),
            "- ".repeat(20_000),
            "*a ".repeat(20_000),
            "[".repeat(20_000),
        ] {
            let started = std::time::Instant::now();
            let html = render(&input);
            eprintln!("render {:?}", started.elapsed());
            assert_clean(&input[..10], &html);
            eprintln!("all {:?}", started.elapsed());
        }
    }

    #[test]
    fn deep_quotes_and_lists_are_flattened() {
        let html = clean(&format!("{}深い", ">".repeat(50)));
        assert_eq!(html.matches("<blockquote>").count(), MAX_NESTING);
        assert_eq!(html.matches("</blockquote>").count(), MAX_NESTING);
        assert!(html.contains("深い"), "{html}");

        let list: String = (0..12)
            .map(|i| format!("{}- item{i}\n", "  ".repeat(i)))
            .collect();
        let html = clean(&list);
        assert_eq!(html.matches("<ul>").count(), MAX_NESTING, "{html}");
        assert_eq!(html.matches("<li>").count(), MAX_NESTING, "{html}");
        assert_eq!(html.matches("</li>").count(), MAX_NESTING, "{html}");
        for i in 0..12 {
            assert!(html.contains(&format!("item{i}")), "{html}");
        }
        assert!(html.contains("item7<br>\nitem8<br>\nitem9"), "{html}");

        let started = std::time::Instant::now();
        render(&">".repeat(200_000));
        render(&"1. ".repeat(100_000));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn excerpt_is_plain_text() {
        assert_eq!(
            excerpt(
                "# 題\n\n**太字**と*斜体*\n\n- [リンク](https://example.org)\n- `code`",
                100
            ),
            "題 太字と斜体 リンク code"
        );
        assert_eq!(
            excerpt("一行目\n二行目\n\n\n  三行目  ", 100),
            "一行目 二行目 三行目"
        );
        assert_eq!(
            excerpt("<script>alert(1)</script>", 100),
            "<script>alert(1)</script>"
        );
        assert_eq!(excerpt("![写真](https://evil.example/p.png)", 100), "写真");
        assert_eq!(excerpt("", 10), "");
        assert_eq!(excerpt("   \n\n ", 10), "");
    }

    #[test]
    fn excerpt_cuts_at_characters() {
        assert_eq!(excerpt("あいうえお", 5), "あいうえお");
        assert_eq!(excerpt("あいうえおか", 5), "あいうえお…");
        assert_eq!(excerpt("abc def", 4), "abc…");
        assert_eq!(excerpt("abc", 0), "…");
        // A family emoji is one picture made of several characters joined: not split.
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        assert_eq!(excerpt(&format!("ab{family}"), 4), "ab…");
        assert_eq!(excerpt(&format!("ab{family}cd"), 7), format!("ab{family}…"));
        // A skin tone belongs to its hand, a decomposed voiced mark to its kana.
        assert_eq!(excerpt("a\u{1F44D}\u{1F3FD}b", 2), "a…");
        assert_eq!(excerpt("か\u{3099}き", 1), "…");
    }
}
