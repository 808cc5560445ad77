//! Bidirectional text: isolating embedded runs in plain text, escaping and marking HTML.

/// LEFT-TO-RIGHT ISOLATE.
pub const LRI: char = '\u{2066}';
/// RIGHT-TO-LEFT ISOLATE.
pub const RLI: char = '\u{2067}';
/// FIRST STRONG ISOLATE.
pub const FSI: char = '\u{2068}';
/// POP DIRECTIONAL ISOLATE.
pub const PDI: char = '\u{2069}';

/// Whether a character is an explicit bidi formatting character (embeddings, overrides,
/// isolates): never allowed inside a URL, and removed from customer-supplied text so a name
/// cannot reorder the rest of a message.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether a character is strongly right-to-left (Hebrew, Arabic, Syriac, Thaana, NKo,
/// Samaritan, Mandaic and the Arabic presentation forms), enough to choose isolation.
pub fn is_strong_rtl(c: char) -> bool {
    matches!(c,
        '\u{0590}'..='\u{08FF}'
        | '\u{FB1D}'..='\u{FDFF}'
        | '\u{FE70}'..='\u{FEFF}'
        | '\u{10800}'..='\u{10FFF}'
        | '\u{1E800}'..='\u{1EFFF}')
        && !matches!(c, '\u{0660}'..='\u{0669}' | '\u{06F0}'..='\u{06F9}' | '\u{066B}' | '\u{066C}' | '\u{FEFF}')
}

/// Whether text contains any strongly right-to-left character.
pub fn has_rtl(s: &str) -> bool {
    s.chars().any(is_strong_rtl)
}

/// Removes explicit bidi formatting characters.
pub fn strip_controls(s: &str) -> String {
    s.chars().filter(|c| !is_bidi_control(*c)).collect()
}

/// Wraps text in an isolate: `open` + text + PDI.
pub fn isolate(open: char, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 6);
    out.push(open);
    out.push_str(s);
    out.push(PDI);
    out
}

/// Escapes text for HTML element content and attribute values.
///
/// ```
/// assert_eq!(aftercare::l10n::bidi::escape_html(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
/// ```
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
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
