//! The recommended setup of one Magento store: catch-up polling (on unless turned off) as
//! the main source, and the webhooks the store may send.

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::inbox::InboxProcessor;
use aftercare::platform::poll::{CatchUpPoller, PollSettings, PolledSource};
use aftercare::store::{Inbox, SnapshotStore};

use crate::client::MagentoClient;
use crate::error::MagentoError;
use crate::io_events::IoEvents;
use crate::webhooks::CommerceWebhooks;

/// The inbox source name of Adobe Commerce webhooks (mount at `/webhooks/magento`).
pub const SOURCE_NAME: &str = "magento";
/// The inbox source name of Adobe I/O Events (mount at `/webhooks/magento-events`).
pub const IO_EVENTS_SOURCE_NAME: &str = "magento-events";
/// The name of the catch-up poller: its inbox source name and cursor id.
pub const POLLER_NAME: &str = "magento-poll";

/// Builds the sdk's [`CatchUpPoller`] over `client`, storing under [`POLLER_NAME`]
/// (register [`PolledSource`] under that name; [`MagentoShop::processor`] does).
pub fn catch_up_poller<S>(
    client: &MagentoClient,
    store: Arc<S>,
    clock: Arc<dyn Clock>,
) -> CatchUpPoller
where
    S: Inbox + SnapshotStore + 'static,
{
    CatchUpPoller::new(POLLER_NAME, Arc::new(client.clone()), store, clock)
}

/// One Magento store wired as recommended.
///
/// Magento Open Source sends no webhooks at all, and Adobe Commerce's webhooks are
/// synchronous calls that Commerce does not queue or retry for an `after` hook: the
/// **catch-up poller is the main source** here, on by default (every 5 minutes, reading
/// orders updated since its cursor less 5 minutes). Adobe Commerce webhooks and Adobe I/O
/// Events, when configured, bring changes sooner; the poller skips what they brought.
/// Turn polling off only with [`MagentoShop::without_catch_up`].
#[derive(Clone, Debug)]
pub struct MagentoShop {
    client: MagentoClient,
    webhooks: Option<Arc<CommerceWebhooks>>,
    io_events: Option<Arc<IoEvents>>,
    poll: Option<PollSettings>,
}

impl MagentoShop {
    /// A store read through `client`, with catch-up polling on.
    pub fn new(client: MagentoClient) -> Self {
        Self {
            client,
            webhooks: None,
            io_events: None,
            poll: Some(PollSettings::default()),
        }
    }

    /// Adds Adobe Commerce webhooks, which must serve the client's store.
    pub fn webhooks(mut self, webhooks: CommerceWebhooks) -> Result<Self, MagentoError> {
        if webhooks.store() != self.client.config().store() {
            return Err(MagentoError::Config(format!(
                "the webhook source serves `{}` but the API client `{}`",
                webhooks.store(),
                self.client.config().store()
            )));
        }
        self.webhooks = Some(Arc::new(webhooks));
        Ok(self)
    }

    /// Adds Adobe I/O Events, which must serve the client's store.
    pub fn io_events(mut self, events: IoEvents) -> Result<Self, MagentoError> {
        if events.store() != self.client.config().store() {
            return Err(MagentoError::Config(format!(
                "the I/O Events source serves `{}` but the API client `{}`",
                events.store(),
                self.client.config().store()
            )));
        }
        self.io_events = Some(Arc::new(events));
        Ok(self)
    }

    /// Sets how the catch-up poller runs.
    pub fn poll_settings(mut self, settings: PollSettings) -> Self {
        self.poll = Some(settings);
        self
    }

    /// Turns catch-up polling off (only sensible with webhooks or events configured; a
    /// store without them then brings nothing).
    pub fn without_catch_up(mut self) -> Self {
        self.poll = None;
        self
    }

    /// The API client.
    pub fn client(&self) -> &MagentoClient {
        &self.client
    }

    /// The Adobe Commerce webhook source, to mount under [`SOURCE_NAME`].
    pub fn commerce_webhooks(&self) -> Option<Arc<CommerceWebhooks>> {
        self.webhooks.clone()
    }

    /// The Adobe I/O Events source, to mount under [`IO_EVENTS_SOURCE_NAME`].
    pub fn events(&self) -> Option<Arc<IoEvents>> {
        self.io_events.clone()
    }

    /// Registers with `processor` everything this store stores: the webhook sources and
    /// the poller's entries.
    pub fn processor(&self, processor: InboxProcessor) -> InboxProcessor {
        let mut p = processor.source(POLLER_NAME, Arc::new(PolledSource));
        if let Some(w) = &self.webhooks {
            p = p.source(SOURCE_NAME, w.clone());
        }
        if let Some(e) = &self.io_events {
            p = p.source(IO_EVENTS_SOURCE_NAME, e.clone());
        }
        p
    }

    /// The catch-up poller (on by default), or `None` after
    /// [`MagentoShop::without_catch_up`].
    pub fn catch_up<S>(&self, store: Arc<S>, clock: Arc<dyn Clock>) -> Option<CatchUpPoller>
    where
        S: Inbox + SnapshotStore + 'static,
    {
        self.poll
            .clone()
            .map(|s| catch_up_poller(&self.client, store, clock).settings(s))
    }
}
