//! The recommended setup of one Nuvemshop store: verified notifications, hydrated from the
//! API, and catch-up polling, on unless turned off (Nuvemshop drops a notification after
//! 14 failed attempts, and repeated `order/updated` bodies of one order are identical, so
//! the inbox's content window keeps only the first within it).

use std::sync::Arc;

use aftercare::clock::Clock;
use aftercare::inbox::InboxProcessor;
use aftercare::platform::poll::{CatchUpPoller, PollSettings, PolledSource};
use aftercare::store::{Inbox, SnapshotStore};

use crate::client::NuvemshopClient;
use crate::error::NuvemshopError;
use crate::hydrate::NuvemshopHydrator;
use crate::webhooks::NuvemshopWebhooks;

/// The inbox source name of the notifications.
pub const SOURCE_NAME: &str = "nuvemshop";
/// The inbox source name (and cursor id) of the catch-up poller.
pub const POLLER_NAME: &str = "nuvemshop-poll";

/// One store: the webhook source, the client, the hydrator and the poller.
#[derive(Clone, Debug)]
pub struct NuvemshopShop {
    webhooks: Arc<NuvemshopWebhooks>,
    client: NuvemshopClient,
    poll: Option<PollSettings>,
}

impl NuvemshopShop {
    /// The setup for a source and a client of the same store.
    pub fn new(
        webhooks: NuvemshopWebhooks,
        client: NuvemshopClient,
    ) -> Result<Self, NuvemshopError> {
        if !webhooks.serves(client.store_id()) {
            return Err(NuvemshopError::Config(format!(
                "the webhook source does not serve store `{}`, the API client's",
                client.store_id()
            )));
        }
        Ok(Self {
            webhooks: Arc::new(webhooks),
            client,
            poll: Some(PollSettings::default()),
        })
    }

    /// The poller's settings.
    pub fn poll_settings(mut self, settings: PollSettings) -> Self {
        self.poll = Some(settings);
        self
    }

    /// No catch-up polling (then a notification lost after Nuvemshop's retries, or a later
    /// `order/updated` within the content window, is not seen).
    pub fn without_catch_up(mut self) -> Self {
        self.poll = None;
        self
    }

    /// The webhook source.
    pub fn webhooks(&self) -> Arc<NuvemshopWebhooks> {
        self.webhooks.clone()
    }

    /// The client.
    pub fn client(&self) -> &NuvemshopClient {
        &self.client
    }

    /// The hydrator.
    pub fn hydrator(&self) -> NuvemshopHydrator {
        NuvemshopHydrator::new(self.webhooks.clone(), self.client.clone())
    }

    /// Registers the source, its hydrator and the poller's entries with a processor.
    pub fn processor(&self, processor: InboxProcessor) -> InboxProcessor {
        processor
            .source(SOURCE_NAME, self.webhooks.clone())
            .hydrator(SOURCE_NAME, Arc::new(self.hydrator()))
            .source(POLLER_NAME, Arc::new(PolledSource))
    }

    /// The catch-up poller, unless turned off.
    pub fn catch_up<S>(&self, store: Arc<S>, clock: Arc<dyn Clock>) -> Option<CatchUpPoller>
    where
        S: Inbox + SnapshotStore + 'static,
    {
        self.poll.clone().map(|s| {
            CatchUpPoller::new(POLLER_NAME, Arc::new(self.client.clone()), store, clock).settings(s)
        })
    }
}
