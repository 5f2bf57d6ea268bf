//! Message bodies: Markdown rendered on the server, then sanitized, so what reaches a page or an email is
//! HTML from an allow-list, whatever anyone typed.

use pulldown_cmark::{Options, Parser, html};
use std::sync::LazyLock;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    // Remote images would tell a sender when, and from where, an agent read their message; attachments are
    // shown by the ticket page itself.
    builder.rm_tags(["img"]);
    builder.url_schemes(["http", "https", "mailto"].into());
    builder.link_rel(Some("noopener noreferrer nofollow ugc"));
    builder.set_tag_attribute_value("a", "target", "_blank");
    builder
});

/// Renders Markdown to sanitized HTML.
pub fn render(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(markdown, options));
    SANITIZER.clean(&raw).to_string()
}

/// Escapes text for HTML (event lines and other plain text put into markup).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered() {
        assert_eq!(
            render("**bold** and `code`"),
            "<p><strong>bold</strong> and <code>code</code></p>\n"
        );
        let link = render("[docs](https://example.com)");
        assert!(link.contains("href=\"https://example.com\""), "{link}");
        assert!(link.contains("rel=\"noopener noreferrer nofollow ugc\""), "{link}");
    }

    #[test]
    fn scripts_handlers_and_dangerous_urls_are_removed() {
        for payload in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<p onclick=\"alert(1)\">x</p>",
            "![x](https://tracker.example/pixel.png)",
            "<form action=\"https://evil.example\"><input name=a></form>",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        ] {
            let html = render(payload).to_lowercase();
            for bad in [
                "<script",
                "onerror",
                "onload",
                "onclick",
                "javascript:",
                "<iframe",
                "<img",
                "<svg",
                "style=",
                "<form",
                "data:",
            ] {
                assert!(!html.contains(bad), "{payload:?} rendered as {html:?}");
            }
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
