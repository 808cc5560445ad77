//! Short links for texts paid by the segment: a signed page token (tracking page, survey)
//! is stored under a random 16-character id, and the SMS or WhatsApp text carries
//! `…/t/{id}` instead of the 150-character token.
//!
//! The id is 12 random bytes (96 bits, base64url), so it cannot be guessed; it only
//! *points at* the signed token, which the page still checks (signature, purpose and expiry)
//! exactly as when the token comes in the URL itself. Ids are stored in the
//! [`SnapshotStore`] (kind `link:{purpose}`; no personal data, only the token). A page given
//! the same store ([`TrackingPage::short_links`](crate::http::tracking::TrackingPage::short_links),
//! [`SurveyPage::short_links`](crate::http::survey::SurveyPage::short_links)) resolves both
//! forms: a token has a `.`, an id never does.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use chrono::{DateTime, Utc};
use rand::RngCore as _;

use crate::Error;
use crate::model::ShopId;
use crate::store::{Snapshot, SnapshotStore};

/// Stores and resolves short link ids.
#[derive(Clone)]
pub struct ShortLinks {
    store: Arc<dyn SnapshotStore>,
}

impl std::fmt::Debug for ShortLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShortLinks")
    }
}

/// Whether a path segment is a short id rather than a signed token.
pub fn is_short_id(s: &str) -> bool {
    s.len() == 16
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl ShortLinks {
    /// Short links kept in `store`.
    pub fn new(store: Arc<dyn SnapshotStore>) -> Self {
        Self { store }
    }

    /// A new id standing for `token` (signed for `purpose`).
    pub async fn shorten(
        &self,
        purpose: &str,
        token: &str,
        shop: Option<ShopId>,
        now: DateTime<Utc>,
    ) -> Result<String, Error> {
        let mut bytes = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut bytes);
        let id = B64URL.encode(bytes);
        self.store
            .put_if_newer(&Snapshot {
                kind: format!("link:{purpose}"),
                shop,
                id: id.clone(),
                version: now,
                data: serde_json::Value::String(token.to_owned()),
            })
            .await?;
        Ok(id)
    }

    /// The token a path segment stands for: itself when it is a token, the stored one when
    /// it is a known short id, `None` for an unknown id.
    pub async fn resolve(&self, purpose: &str, segment: &str) -> Result<Option<String>, Error> {
        if !is_short_id(segment) {
            return Ok(Some(segment.to_owned()));
        }
        Ok(self
            .store
            .snapshot(&format!("link:{purpose}"), segment)
            .await?
            .and_then(|s| s.data.as_str().map(str::to_owned)))
    }
}
