//! The recommended setup of one WooCommerce shop: verified webhooks, hydrated `action.*`
//! webhooks, and catch-up polling, which is on unless turned off.

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::inbox::InboxProcessor;
use aftercare::platform::poll::{CatchUpPoller, PollSettings, PolledSource};
use aftercare::store::{Inbox, SnapshotStore};

use crate::client::WooClient;
use crate::error::WooError;
use crate::hydrate::WooHydrator;
use crate::webhooks::WooWebhooks;

/// The inbox source name the recommended setup stores webhooks under (mount the source
/// at `/webhooks/woocommerce`).
pub const SOURCE_NAME: &str = "woocommerce";
/// The name of the catch-up poller: its inbox source name and cursor id.
pub const POLLER_NAME: &str = "woocommerce-poll";

/// Builds the sdk's [`CatchUpPoller`] for a WooCommerce shop: every order modified since
/// its cursor, read with `client`, stored in the inbox under [`POLLER_NAME`] unless
/// webhooks already brought it (register [`PolledSource`] under that name with the
/// processor; [`WooShop::processor`] does).
pub fn catch_up_poller<S>(client: &WooClient, store: Arc<S>, clock: Arc<dyn Clock>) -> CatchUpPoller
where
    S: Inbox + SnapshotStore + 'static,
{
    CatchUpPoller::new(POLLER_NAME, Arc::new(client.clone()), store, clock)
}

/// One WooCommerce shop wired as recommended.
///
/// WooCommerce never retries a failed delivery, and after more than five failures in a row
/// it disables the webhook (`woocommerce_max_webhook_delivery_failures`) until someone
/// re-enables it by hand: an outage of the receiver loses events silently. So catch-up
/// polling is **on** here: [`WooShop::catch_up`] returns a poller (every 5 minutes by
/// default, re-reading 5 minutes before its cursor) that finds what webhooks missed and
/// stores it in the inbox, de-duplicated against what webhooks brought. Turn it off only
/// with [`WooShop::without_catch_up`].
///
/// ```no_run
/// # async fn demo(store: std::sync::Arc<aftercare_sqlite::SqliteStore>, handler: std::sync::Arc<dyn aftercare::inbox::EventHandler>) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use aftercare::clock::SystemClock;
/// use aftercare::inbox::InboxProcessor;
/// use aftercare::webhook::Secret;
/// use aftercare_woocommerce::{WooClient, WooConfig, WooShop, WooWebhooks};
/// let site = "https://shop.example/";
/// let shop = WooShop::new(
///     WooWebhooks::new(site, Secret::from("webhook secret"))?,
///     WooClient::new(WooConfig::new(site, "ck_…", "cs_…")?)?,
/// )?;
/// let clock = Arc::new(SystemClock);
/// // Mount `shop.webhooks()` at `/webhooks/woocommerce` on the sdk's `WebhookRoutes`.
/// let processor = shop.processor(InboxProcessor::new(store.clone(), handler, clock.clone()));
/// if let Some(poller) = shop.catch_up(store.clone(), clock.clone()) {
///     tokio::spawn(async move { poller.run(std::future::pending()).await });
/// }
/// # let _ = processor; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct WooShop {
    webhooks: Arc<WooWebhooks>,
    client: WooClient,
    poll: Option<PollSettings>,
}

impl WooShop {
    /// A shop from its webhook source and API client, which must serve the same site.
    pub fn new(webhooks: WooWebhooks, client: WooClient) -> Result<Self, WooError> {
        if webhooks.site() != client.config().site() {
            return Err(WooError::Config(format!(
                "the webhook source serves `{}` but the API client `{}`",
                webhooks.site(),
                client.config().site()
            )));
        }
        Ok(Self {
            webhooks: Arc::new(webhooks),
            client,
            poll: Some(PollSettings::default()),
        })
    }

    /// Sets how the catch-up poller runs.
    pub fn poll_settings(mut self, settings: PollSettings) -> Self {
        self.poll = Some(settings);
        self
    }

    /// Turns catch-up polling off (webhooks alone then lose what a receiver outage loses).
    pub fn without_catch_up(mut self) -> Self {
        self.poll = None;
        self
    }

    /// The webhook source, to mount on the router under [`SOURCE_NAME`].
    pub fn webhooks(&self) -> Arc<WooWebhooks> {
        self.webhooks.clone()
    }

    /// The API client (an `OrderSource`, `CustomerDirectory` and `OrderAnnotator`).
    pub fn client(&self) -> &WooClient {
        &self.client
    }

    /// The hydrator of `action.*` webhooks.
    pub fn hydrator(&self) -> WooHydrator {
        WooHydrator::new(self.webhooks.clone(), self.client.clone())
    }

    /// Registers with `processor` everything this shop stores: the source and its hydrator
    /// under [`SOURCE_NAME`], and the poller's entries under [`POLLER_NAME`].
    pub fn processor(&self, processor: InboxProcessor) -> InboxProcessor {
        processor
            .source(SOURCE_NAME, self.webhooks.clone())
            .hydrator(SOURCE_NAME, Arc::new(self.hydrator()))
            .source(POLLER_NAME, Arc::new(PolledSource))
    }

    /// The catch-up poller (on by default), or `None` after
    /// [`WooShop::without_catch_up`]. Run it with [`CatchUpPoller::run`].
    pub fn catch_up<S>(&self, store: Arc<S>, clock: Arc<dyn Clock>) -> Option<CatchUpPoller>
    where
        S: Inbox + SnapshotStore + 'static,
    {
        self.poll
            .clone()
            .map(|s| catch_up_poller(&self.client, store, clock).settings(s))
    }
}
