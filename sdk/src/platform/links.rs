//! `Link` headers (RFC 8288), as WooCommerce, Nuvemshop and Shopify's REST API page with
//! them: `<https://…?page=2>; rel="next", <https://…?page=9>; rel="last"`.

/// Every `(url, rel)` pair of a `Link` header value. A link with several relations
/// (`rel="next last"`) yields one pair per relation; relations are lower-cased. Commas and
/// semicolons inside `<…>` belong to the URL.
///
/// ```
/// use aftercare::platform::links::parse_link_header;
/// let v = parse_link_header(r#"<https://s.example/wp-json/wc/v3/orders?page=2>; rel="next", <https://s.example/wp-json/wc/v3/orders?page=5>; rel="last""#);
/// assert_eq!(v[0], ("https://s.example/wp-json/wc/v3/orders?page=2".to_owned(), "next".to_owned()));
/// assert_eq!(v[1].1, "last");
/// ```
pub fn parse_link_header(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open + 1..].find('>') else {
            break;
        };
        let url = rest[open + 1..open + 1 + close].trim().to_owned();
        rest = &rest[open + 1 + close + 1..];
        // Parameters run to the next `<` that starts another link (after a comma).
        let end = next_link_start(rest);
        let params = &rest[..end];
        for param in params.split(';') {
            let Some((name, v)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("rel") {
                for rel in v.trim().trim_matches('"').split_ascii_whitespace() {
                    out.push((url.clone(), rel.to_ascii_lowercase()));
                }
            }
        }
        rest = &rest[end..];
    }
    out
}

/// Where the next `, <` link starts in `s` (or its end).
fn next_link_start(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut in_quotes = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes && s[i + 1..].trim_start().starts_with('<') => return i,
            _ => {}
        }
    }
    s.len()
}

/// The URL of the link with relation `rel` (`next`), if any.
///
/// ```
/// let h = r#"<https://a.example/o?page=1>; rel="prev", <https://a.example/o?page=3>; rel="next""#;
/// assert_eq!(aftercare::platform::links::link(h, "next").as_deref(), Some("https://a.example/o?page=3"));
/// assert_eq!(aftercare::platform::links::link(h, "last"), None);
/// ```
pub fn link(value: &str, rel: &str) -> Option<String> {
    parse_link_header(value)
        .into_iter()
        .find(|(_, r)| r.eq_ignore_ascii_case(rel))
        .map(|(u, _)| u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_of_spacing_case_commas_and_several_rels() {
        let v = parse_link_header(
            r#"<https://x.example/a?ids=1,2;3&page=2>;rel=next,<https://x.example/a?page=1>; REL="first prev"; title="a, b""#,
        );
        assert_eq!(
            v,
            vec![
                (
                    "https://x.example/a?ids=1,2;3&page=2".to_owned(),
                    "next".to_owned()
                ),
                ("https://x.example/a?page=1".to_owned(), "first".to_owned()),
                ("https://x.example/a?page=1".to_owned(), "prev".to_owned()),
            ]
        );
        assert!(parse_link_header("").is_empty());
        assert!(parse_link_header("<unterminated; rel=next").is_empty());
        assert!(parse_link_header("garbage").is_empty());
    }
}
