/// The headers of a raw HTTP request, looked up case-insensitively.
///
/// Kept independent of any HTTP library; with the `axum` feature it converts from
/// `http::HeaderMap`.
///
/// ```
/// use aftercare::webhook::RawHeaders;
/// let h = RawHeaders::from_pairs([("X-Shopify-Topic", "orders/create")]);
/// assert_eq!(h.get_str("x-shopify-topic"), Some("orders/create"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawHeaders(Vec<(String, Vec<u8>)>);

impl RawHeaders {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Headers from name/value pairs.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<[u8]>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(n, v)| (n.as_ref().to_owned(), v.as_ref().to_vec()))
                .collect(),
        )
    }

    /// Adds a header.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first value of a header, as bytes; the name is matched case-insensitively.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of a header as text, when it is valid UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every header, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// Number of headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(feature = "axum")]
impl From<&http::HeaderMap> for RawHeaders {
    fn from(map: &http::HeaderMap) -> Self {
        Self(
            map.iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                .collect(),
        )
    }
}
