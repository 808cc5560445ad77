//! WordPress's `wp_specialchars_decode( $text, ENT_QUOTES )`, which WooCommerce applies to a
//! webhook's secret before signing with it (`WC_Webhook::generate_signature`): WordPress
//! stores a secret typed as `a&b` as `a&amp;b`, and a verifier keyed with the stored text
//! would never match (woocommerce/woocommerce#21693, #22500).

/// Decodes the entities `wp_specialchars_decode( $text, ENT_QUOTES )` decodes, exactly as it
/// does: `&lt;` `&gt;` `&amp;` `&quot;` and the numeric forms of `<` `>` `&` `"` `'`
/// (`&#060;`, `&#x26;`, `&#039;`, `&#39;`, `&#x27;`, with any leading zeros; `x` in either
/// case), in one left-to-right pass (like PHP's `strtr`, what was decoded is not decoded
/// again). Every other `&` sequence is kept as it is — `&apos;` included, which WordPress
/// does not decode either.
///
/// ```
/// use aftercare_woocommerce::wp_specialchars_decode;
/// assert_eq!(wp_specialchars_decode("a&amp;b&#039;c&quot;"), "a&b'c\"");
/// assert_eq!(wp_specialchars_decode("&amp;amp;"), "&amp;");
/// assert_eq!(wp_specialchars_decode("&apos;&nbsp;"), "&apos;&nbsp;");
/// ```
pub fn wp_specialchars_decode(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match entity(tail) {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character an entity at the start of `s` stands for, and the entity's length.
fn entity(s: &str) -> Option<(char, usize)> {
    for (name, c) in [
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&amp;", '&'),
        ("&quot;", '"'),
    ] {
        if s.starts_with(name) {
            return Some((c, name.len()));
        }
    }
    let num = s.strip_prefix("&#")?;
    let (hex, digits_at) = match num.as_bytes().first() {
        Some(b'x' | b'X') => (true, 1),
        _ => (false, 0),
    };
    let body = &num[digits_at..];
    let end = body.find(';')?;
    let digits = &body[..end];
    let valid = if hex {
        digits.bytes().all(|b| b.is_ascii_hexdigit())
    } else {
        digits.bytes().all(|b| b.is_ascii_digit())
    };
    if digits.is_empty() || !valid {
        return None;
    }
    let value = digits.trim_start_matches('0');
    // WordPress's patterns: decimal `&#0*39;` `&#0*34;` `&#0*60;` `&#0*62;` `&#0*38;`, hex
    // `&#x0*27;` `&#x0*22;` `&#x0*26;` (no hex forms of `<` and `>`).
    let c = match (hex, value) {
        (false, "39") | (true, "27") => '\'',
        (false, "34") | (true, "22") => '"',
        (false, "60") => '<',
        (false, "62") => '>',
        (false, "38") | (true, "26") => '&',
        _ => return None,
    };
    Some((c, 2 + digits_at + end + 1))
}

#[cfg(test)]
mod tests {
    use super::wp_specialchars_decode as d;

    #[test]
    fn decodes_what_wordpress_decodes_and_nothing_else() {
        assert_eq!(d(""), "");
        assert_eq!(d("no entities"), "no entities");
        assert_eq!(d("&lt;&gt;&amp;&quot;"), "<>&\"");
        assert_eq!(d("&#039;&#39;&#0039;&#x27;&#X27;&#x0027;"), "''''''");
        assert_eq!(d("&#034;&#34;&#x22;"), "\"\"\"");
        assert_eq!(d("&#060;&#60;&#062;&#38;&#038;&#x26;"), "<<>&&&");
        // Not decoded by WordPress: hex `<`/`>`, `&apos;`, other numbers, named entities.
        assert_eq!(d("&#x3c;&#x3e;"), "&#x3c;&#x3e;");
        assert_eq!(d("&apos;&nbsp;&#65;&#390;"), "&apos;&nbsp;&#65;&#390;");
        // Upper-case names are not entities to `strtr`.
        assert_eq!(d("&AMP;&Lt;"), "&AMP;&Lt;");
        // One pass: what was decoded is not decoded again.
        assert_eq!(d("&amp;lt;"), "&lt;");
        assert_eq!(d("&#038;amp;"), "&amp;");
        // Unterminated and stray ampersands stay.
        assert_eq!(d("a & b &amp c &#39"), "a & b &amp c &#39");
        assert_eq!(d("k3y&amp;s3cr&#039;t"), "k3y&s3cr't");
        assert_eq!(d("&&amp;"), "&&");
        assert_eq!(d("ü&amp;ö"), "ü&ö");
    }
}
