//! Thin webhooks: platforms such as BigCommerce and Nuvemshop send only ids
//! (`{"scope":"store/order/updated","data":{"type":"order","id":250}}`), so the events are
//! built by fetching the resources from the platform's API.
//!
//! That work never runs on the request path: the webhook is verified and stored as usual
//! and acknowledged at once; the [`InboxProcessor`](crate::inbox::InboxProcessor) later
//! hands the stored entry to the source's [`Hydrator`] (registered with
//! [`InboxProcessor::hydrator`](crate::inbox::InboxProcessor::hydrator)), with the
//! platform's client at hand, paced by the client's own rate limiting. When the API fails
//! with a retryable error (a timeout, a 5xx, a 429), the entry is retried with the inbox's
//! backoff and dead-lettered only after the retry policy gives up: an outage delays the
//! event, never loses it.

use async_trait::async_trait;

use crate::Error;
use crate::model::PlatformEvent;
use crate::store::InboxEntry;

/// Builds the events of a stored thin webhook with the platform's API.
///
/// Return a retryable [`Error`] (`Error::is_retryable`: HTTP 429/5xx, timeouts) when the
/// API may answer later, and [`Error::Decode`] when the stored body itself is wrong (it is
/// dead-lettered). A resource the API no longer has (deleted since) is not an error: return
/// the events that still make sense, or none.
#[async_trait]
pub trait Hydrator: Send + Sync {
    /// The events of `entry`.
    async fn hydrate(&self, entry: &InboxEntry) -> Result<Vec<PlatformEvent>, Error>;
}
