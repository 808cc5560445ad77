//! The flows: business rules written against the traits only. Adapters translate; flows
//! decide.

pub mod build;
pub mod delivery;
pub mod email;
pub mod feedback;
pub mod inbound;
pub mod privacy;
pub mod reach;
pub mod recovery;
pub mod replies;
pub mod tickets;
pub mod tracking;

use std::sync::Arc;

use async_trait::async_trait;

use crate::inbox::{EventHandler, HandlerError};
use crate::model::PlatformEvent;
use crate::store::InboxEntry;
use crate::work::{ReadKeys, Stage};

/// Runs several handlers on each stored webhook, in order (e.g. privacy, tracking,
/// feedback). The first failure stops the chain; the entry is retried as a whole, which is
/// safe because every flow is idempotent.
#[derive(Clone, Default)]
pub struct Chain(Vec<Arc<dyn EventHandler>>);

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Chain({} handlers)", self.0.len())
    }
}

impl Chain {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a handler at the end.
    pub fn then(mut self, handler: Arc<dyn EventHandler>) -> Self {
        self.0.push(handler);
        self
    }
}

#[async_trait]
impl EventHandler for Chain {
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        for h in &self.0 {
            h.handle(entry, events.clone()).await?;
        }
        Ok(())
    }

    fn read_keys(&self, events: &[PlatformEvent], keys: &mut ReadKeys) {
        for h in &self.0 {
            h.read_keys(events, keys);
        }
    }

    async fn prepare(&self, batch: &[&[PlatformEvent]]) {
        for h in &self.0 {
            h.prepare(batch).await;
        }
    }

    /// Each handler's own [`EventHandler::handle_staged`]: those that stage, stage; the
    /// others write to the store as under [`EventHandler::handle`].
    async fn handle_staged(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
        stage: &Stage,
    ) -> Result<(), HandlerError> {
        for h in &self.0 {
            h.handle_staged(entry, events.clone(), stage).await?;
        }
        Ok(())
    }
}
