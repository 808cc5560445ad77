//! # Zid adapter for Aftercare
//!
//! Zid is a Saudi shop platform; Arabic is its first language, and this adapter's (orders
//! default to the `ar` locale, requests send `Accept-Language: ar`).
//!
//! - [`ZidWebhooks`]: a [`WebhookSource`](aftercare::webhook::WebhookSource) bound to one
//!   store. **Zid signs nothing**: deliveries are authenticated only by the HTTP Basic
//!   credentials given when the webhook was created, plus a secret URL — weaker than a
//!   signature (see [`webhooks`](crate::ZidWebhooks) for what that means), so credentials
//!   are required, compared in constant time, the body's `store_id` is bound to the
//!   configured store, and the [catch-up poller](catch_up_poller) reads orders from the API.
//! - [`ZidClient`] + [`ZidApi`]: the Merchant API with its two headers (the partner's
//!   `Authorization` and the store's `X-Manager-Token` from an
//!   [`aftercare::platform::token::TokenHolder`], refreshed with [`ZidRefresher`]), paced
//!   under the 60-a-minute bucket, `Retry-After` honoured; order statuses (`indelivery`,
//!   `delivered`...) as shipment milestones ([`map_status`]); comments as write-back;
//!   webhook subscription ([`ZidApi::subscribe`]).

#![cfg_attr(docsrs, feature(doc_cfg))]
mod api;
mod client;
pub mod convert;
mod error;
pub mod payload;
pub mod webhooks;

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::platform::poll::CatchUpPoller;
use aftercare::store::{Inbox, SnapshotStore};

pub use api::{MAX_COMMENT_CHARS, ZidApi};
pub use client::{
    API_BASE, MANAGER_TOKEN_HEADER, REQUESTS_PER_MINUTE, TOKEN_URL, ZidClient, ZidConfig,
    ZidRefresher,
};
pub use convert::{map_status, round_money};
pub use error::ZidError;
pub use webhooks::{AUTH_HEADER, BasicCredentials, ZidWebhooks, ZidWebhooksBuilder, decode_body};

/// The source name the reference binaries register Zid webhooks under by default; give
/// the real one a secret suffix (`zid-<random>`) so the URL itself is unguessable.
pub const SOURCE_NAME: &str = "zid";
/// The name of the catch-up poller's inbox source.
pub const POLLER_NAME: &str = "zid-poll";

/// The catch-up poller over `api`: Zid's webhooks are only as trustworthy as their Basic
/// credentials, and a missed delivery is never re-sent as far as Zid documents, so the
/// orders are read from the API on a schedule and stored in the inbox, de-duplicated
/// against what webhooks brought. Register `aftercare::platform::poll::PolledSource` under
/// [`POLLER_NAME`] with the processor.
pub fn catch_up_poller<S>(api: &ZidApi, store: Arc<S>, clock: Arc<dyn Clock>) -> CatchUpPoller
where
    S: Inbox + SnapshotStore + 'static,
{
    CatchUpPoller::new(POLLER_NAME, Arc::new(api.clone()), store, clock)
}

/// Re-exported: its types appear in this crate's public signatures, so an integration can
/// use the very version this crate was built with.
pub use url;
