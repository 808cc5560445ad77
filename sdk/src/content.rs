//! Per-product content woven into messages: tutorials and setup guides, by product id, SKU
//! or category, per language.

use serde::{Deserialize, Serialize};

use crate::model::LineItem;

/// What a content entry applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ContentMatch {
    /// A product id.
    Product(String),
    /// A SKU.
    Sku(String),
    /// A category or product type (case-insensitive).
    Category(String),
}

/// One tutorial or guide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ContentEntry {
    /// What it applies to.
    #[serde(rename = "match")]
    pub matches: ContentMatch,
    /// Language (BCP 47 primary tag or full tag); `None` for any.
    #[serde(default)]
    pub locale: Option<String>,
    /// Link text.
    pub title: String,
    /// The tutorial's URL.
    pub url: String,
}

/// A link chosen for a line item.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContentLink {
    /// The product's title as bought.
    pub product: String,
    /// Link text.
    pub title: String,
    /// URL.
    pub url: String,
}

/// The content map: the most specific match wins (product, then SKU, then category), and
/// within it the best language (exact tag, then primary language, then any).
///
/// ```
/// use aftercare::content::{ContentMap, ContentEntry, ContentMatch};
/// use aftercare::model::LineItem;
/// let map: ContentMap = serde_json::from_value(serde_json::json!([
///   {"match": {"category": "grinders"}, "title": "Setting up your grinder", "url": "https://shop.example/g"},
///   {"match": {"category": "grinders"}, "locale": "tr", "title": "Öğütücünüzü kurun", "url": "https://shop.example/tr/g"}
/// ])).unwrap();
/// let mut item = LineItem::new("Espresso grinder", 1);
/// item.category = Some("Grinders".into());
/// assert_eq!(map.links_for(&[item.clone()], "tr-TR")[0].url, "https://shop.example/tr/g");
/// assert_eq!(map.links_for(&[item], "ar")[0].url, "https://shop.example/g");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct ContentMap(pub Vec<ContentEntry>);

fn primary(tag: &str) -> &str {
    tag.split(['-', '_']).next().unwrap_or(tag)
}

impl ContentMap {
    fn best(&self, item: &LineItem, locale: &str) -> Option<&ContentEntry> {
        let specificity = |e: &ContentEntry| -> Option<u8> {
            match &e.matches {
                ContentMatch::Product(p) => {
                    (item.product_id.as_ref().map(|x| x.as_str()) == Some(p.as_str())).then_some(3)
                }
                ContentMatch::Sku(s) => (item.sku.as_deref() == Some(s.as_str())).then_some(2),
                ContentMatch::Category(c) => item
                    .category
                    .as_deref()
                    .is_some_and(|ic| ic.eq_ignore_ascii_case(c))
                    .then_some(1),
            }
        };
        let lang = |e: &ContentEntry| -> Option<u8> {
            match e.locale.as_deref() {
                None => Some(0),
                Some(l) if l.eq_ignore_ascii_case(locale) => Some(2),
                Some(l) if primary(l).eq_ignore_ascii_case(primary(locale)) => Some(1),
                Some(_) => None,
            }
        };
        self.0
            .iter()
            .filter_map(|e| Some(((specificity(e)?, lang(e)?), e)))
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, e)| e)
    }

    /// The links for a set of line items in a language, one per item that has content,
    /// without repeating a URL.
    pub fn links_for(&self, items: &[LineItem], locale: &str) -> Vec<ContentLink> {
        let mut out: Vec<ContentLink> = Vec::new();
        for item in items {
            if let Some(e) = self.best(item, locale)
                && !out.iter().any(|l| l.url == e.url)
            {
                out.push(ContentLink {
                    product: item.title.clone(),
                    title: e.title.clone(),
                    url: e.url.clone(),
                });
            }
        }
        out
    }
}
