//! Small helpers for the server-rendered pages: escaping, direction, the shared layout.

/// Escapes text for HTML element content and attribute values.
///
/// ```
/// assert_eq!(aftercare::html::escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether a locale is written right to left (Arabic, Hebrew, Persian, Urdu).
///
/// ```
/// assert!(aftercare::html::is_rtl("ar-SA"));
/// assert!(!aftercare::html::is_rtl("tr"));
/// ```
pub fn is_rtl(locale: &str) -> bool {
    let primary = locale
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(primary.as_str(), "ar" | "he" | "fa" | "ur")
}

/// Whether a URL is safe to put in an `href` (http or https only).
pub fn safe_url(url: &str) -> bool {
    let u = url.trim_start().to_ascii_lowercase();
    u.starts_with("https://") || u.starts_with("http://")
}

/// Escapes plain text for HTML and turns its bidi isolates (LRI, RLI, FSI … PDI, as the
/// catalogs put around left-to-right runs in right-to-left text) into `<bdi>` elements,
/// which browsers honour more reliably than the control characters. Unbalanced isolates
/// are dropped.
pub fn escape_isolated(s: &str) -> String {
    use crate::l10n::bidi::{FSI, LRI, PDI, RLI};
    let balanced = s.chars().filter(|c| matches!(*c, LRI | RLI | FSI)).count()
        == s.chars().filter(|c| *c == PDI).count();
    let mut out = String::with_capacity(s.len() + 16);
    for c in escape(s).chars() {
        match c {
            LRI if balanced => out.push_str("<bdi dir=\"ltr\">"),
            RLI if balanced => out.push_str("<bdi dir=\"rtl\">"),
            FSI if balanced => out.push_str("<bdi>"),
            PDI if balanced => out.push_str("</bdi>"),
            LRI | RLI | FSI | PDI => {}
            c => out.push(c),
        }
    }
    out
}

/// The pages' one stylesheet, inline in every page's `<head>`. The pages' Content Security
/// Policy allows exactly this text by its SHA-256 hash
/// (`http::headers::content_security_policy` with the
/// `axum` feature), so every style a page needs is here: no `style=` attribute, no other
/// `<style>` element.
pub const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans Arabic", "Noto Sans Thai", sans-serif; color: #1a1a1a; background: #f6f6f4; }
main { max-width: 36rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
/* A name or number in a heading wraps as one piece: split, a right-to-left line would read its halves apart. */
h1 bdi, h2 bdi { display: inline-block; max-width: 100%; }
.card { background: #fff; border-radius: 12px; padding: 1rem; margin-bottom: 1rem; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
dl { display: grid; grid-template-columns: fit-content(50%) minmax(0, 1fr); gap: .25rem 1rem; margin: 0; }
dt { color: #555; }
dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
ol.timeline { list-style: none; margin: 0; padding: 0; }
ol.timeline li { padding: .5rem 0; padding-inline-start: 1.25rem; border-inline-start: 3px solid #c8d3e0; position: relative; }
ol.timeline li.current { border-inline-start-color: #0b57d0; font-weight: 600; }
ol.timeline time { display: block; color: #555; font-size: .9rem; font-weight: normal; }
a.button { display: inline-block; background: #0b57d0; color: #fff; padding: .75rem 1rem; border-radius: 8px; text-decoration: none; font-weight: 600; margin: .25rem 0; }
button.button { border: 0; background: #0b57d0; color: #fff; padding: .75rem 1.25rem; border-radius: 8px; font-weight: 600; font-size: 1rem; }
button.link { border: 0; background: none; color: #0b57d0; padding: 0; font: inherit; text-decoration: underline; cursor: pointer; }
a { color: #0b57d0; }
a:focus, button:focus { outline: 3px solid #e8a200; outline-offset: 2px; }
.ltr { direction: ltr; unicode-bidi: isolate; }
textarea, input.wide { width: 100%; font: inherit; padding: .5rem; }
fieldset { border: 0; padding: 0; margin: 0; }
.ends { display: flex; justify-content: space-between; gap: 1rem; width: 100%; font-size: .9rem; color: #444; padding: 0; margin-bottom: .5rem; }
.points { display: grid; grid-template-columns: repeat(auto-fit, minmax(44px, 1fr)); gap: .375rem; }
.point input { position: absolute; opacity: 0; }
.point span { display: flex; align-items: center; justify-content: center; min-width: 44px; min-height: 44px; border: 2px solid #5f6b7a; border-radius: 8px; font-weight: 600; background: #fff; color: #1a1a1a; }
.point input:checked + span { background: #0b57d0; color: #fff; border-color: #0b57d0; }
.point input:focus-visible + span { outline: 3px solid #e8a200; outline-offset: 2px; }
svg.chart { direction: ltr; }
.scroll { overflow-x: auto; max-width: 100%; }
header.brand { display: flex; align-items: center; gap: .75rem; padding: .5rem 0 0; font-weight: 600; }
header.brand img { max-height: 48px; max-width: 160px; }
ul.items { list-style: none; padding: 0; margin: 0; }
ul.items li { display: flex; align-items: center; gap: .75rem; padding: .25rem 0; }
.thumb { flex: none; width: 64px; height: 64px; border-radius: 8px; object-fit: cover; background: #eceae4; }
footer.brand { margin-top: 1.5rem; padding-top: .75rem; border-top: 1px solid #d5d5d0; font-size: .95rem; }
"#;

/// The lines of an order as a list (`<ul>…</ul>`): each title with its quantity and, when
/// the platform gave an `https` picture, the picture: `alt` the product's name, a fixed
/// 64 × 64 box reserved by `width`/`height` before it loads (no layout shift), loaded
/// lazily. When some lines have a picture, the others keep an empty box of the same size so
/// the titles stay aligned; when none has, the list is text alone.
///
/// ```
/// use aftercare::model::{ImageUrl, LineItem};
/// let mut mug = LineItem::new("Mug", 2);
/// mug.image = ImageUrl::from_payload(Some("https://cdn.example/mug.jpg"));
/// let html = aftercare::html::line_items(&[mug]);
/// assert!(html.contains(r#"<img class="thumb" src="https://cdn.example/mug.jpg" alt="Mug" width="64" height="64" loading="lazy" decoding="async">"#));
/// assert!(!aftercare::html::line_items(&[LineItem::new("Mug", 2)]).contains("<img"));
/// ```
pub fn line_items(items: &[crate::model::LineItem]) -> String {
    let picture = |l: &crate::model::LineItem| l.image.as_ref().filter(|i| i.is_https()).cloned();
    let pictured = items.iter().any(|l| picture(l).is_some());
    let mut out = String::from(if pictured {
        "<ul class=\"items\">\n"
    } else {
        "<ul>\n"
    });
    for l in items {
        let title = escape(&l.title);
        let thumb = match picture(l) {
            Some(src) => format!(
                "<img class=\"thumb\" src=\"{}\" alt=\"{title}\" width=\"64\" height=\"64\" loading=\"lazy\" decoding=\"async\">",
                escape(src.as_str())
            ),
            None if pictured => "<span class=\"thumb\"></span>".to_owned(),
            None => String::new(),
        };
        let text = format!("{title} × <bdi>{}</bdi>", l.quantity);
        if pictured {
            out.push_str(&format!("<li>{thumb}<span>{text}</span></li>\n"));
        } else {
            out.push_str(&format!("<li>{text}</li>\n"));
        }
    }
    out.push_str("</ul>\n");
    out
}

/// The page shell: `lang` and `dir` on `<html>`, a mobile viewport, readable contrast, no
/// JavaScript, [`STYLE`] as the only stylesheet. `body` is already-escaped HTML.
pub fn page(locale: &str, title: &str, body: &str) -> String {
    branded_page(locale, title, body, None, "")
}

/// [`page`] in the shop's colours: its logo and name above the content, its support link
/// (labelled `support_label`, plain text) below, its accent colour as a second stylesheet
/// ([`Branding::style`](crate::branding::Branding::style)).
pub fn branded_page(
    locale: &str,
    title: &str,
    body: &str,
    branding: Option<&crate::branding::Branding>,
    support_label: &str,
) -> String {
    let Some(b) = branding else {
        return shell(locale, title, body, "");
    };
    let mut content = String::from("<header class=\"brand\">");
    if let Some(logo) = b.logo() {
        // The name is written next to it: the image itself says nothing more.
        content.push_str(&format!("<img src=\"{}\" alt=\"\">", escape(logo)));
    }
    // The name keeps its own direction inside a page of the other (a Latin name in Arabic).
    content.push_str(&format!(
        "<span><bdi>{}</bdi></span></header>\n",
        escape(b.name())
    ));
    content.push_str(body);
    if let Some(support) = b.support_link() {
        content.push_str(&format!(
            "\n<footer class=\"brand\"><a href=\"{}\">{}</a></footer>",
            escape(&support),
            escape(support_label)
        ));
    }
    let style = format!("<style>{}</style>\n", b.style());
    shell(locale, title, &content, &style)
}

fn shell(locale: &str, title: &str, body: &str, extra_style: &str) -> String {
    let dir = if is_rtl(locale) { "rtl" } else { "ltr" };
    format!(
        r#"<!doctype html>
<html lang="{lang}" dir="{dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>{STYLE}</style>
{extra_style}</head>
<body>
<main>
{body}
</main>
</body>
</html>
"#,
        lang = escape(locale),
        title = escape(title),
    )
}
