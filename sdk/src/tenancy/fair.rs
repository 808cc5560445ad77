//! Fair dispatch across shops: round-robin with a quantum (deficit round-robin where every
//! message costs one), over the shops with due work.
//!
//! Each shop has its own [`Dispatcher`] over its own outbox; its batch size is the shop's
//! quantum, the most it sends in one turn. A round gives every busy shop one turn before any
//! shop gets a second, so a shop with a 100k-message backlog sends `quantum` messages per
//! round like everyone else, and a small shop's message waits at most one round — never
//! behind the whole backlog, as it would first-come-first-served. A shop found with nothing
//! due is not asked again for `idle_poll` unless [`FairDispatcher::wake`] says it has work
//! (the in-memory "shops with due work" index).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use tracing::Instrument as _;

use crate::Error;
use crate::dispatch::{DispatchReport, Dispatcher};
use crate::model::ShopId;

/// One shop's turn: a batch of its due messages. [`Dispatcher`] is one; an integration that
/// keeps its dispatcher inside something else (a whole [`Stack`](crate::stack)) implements
/// it over that.
#[async_trait::async_trait]
pub trait DispatchTurn: Send + Sync {
    /// Sends one batch of the shop's due messages.
    async fn turn(&self) -> Result<DispatchReport, Error>;
}

#[async_trait::async_trait]
impl DispatchTurn for Dispatcher {
    async fn turn(&self) -> Result<DispatchReport, Error> {
        self.run_once().await
    }
}

struct Slot {
    dispatcher: Arc<dyn DispatchTurn>,
    idle_until: Option<Instant>,
    /// Wake-ups so far: a turn that found nothing marks the shop idle only if no wake-up
    /// came while it ran (a message enqueued during the turn would wait `idle_poll`).
    wakes: u64,
}

/// Per-shop dispatchers served in fair rounds.
pub struct FairDispatcher {
    shops: Mutex<(Vec<ShopId>, HashMap<ShopId, Slot>)>,
    cursor: Mutex<usize>,
    idle_poll: Duration,
    parallel: usize,
}

impl std::fmt::Debug for FairDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FairDispatcher")
            .field("idle_poll", &self.idle_poll)
            .field("parallel", &self.parallel)
            .finish_non_exhaustive()
    }
}

impl Default for FairDispatcher {
    fn default() -> Self {
        Self::new()
    }
}

/// What one round did, per shop that sent anything, and in total.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RoundReport {
    /// Shops that had a turn (were not idle).
    pub turns: usize,
    /// Messages handled (sent, rescheduled, skipped, dead, uncertain, lost) per shop.
    pub handled: HashMap<ShopId, u32>,
}

impl RoundReport {
    /// Messages handled in the round.
    pub fn total(&self) -> u32 {
        self.handled.values().sum()
    }
}

fn handled(r: &DispatchReport) -> u32 {
    r.sent + r.rescheduled + r.skipped + r.dead + r.uncertain + r.lost
}

impl FairDispatcher {
    /// No shops yet; idle shops polled every second, 4 shops' turns at once.
    pub fn new() -> Self {
        Self {
            shops: Mutex::new((Vec::new(), HashMap::new())),
            cursor: Mutex::new(0),
            idle_poll: Duration::from_secs(1),
            parallel: 4,
        }
    }

    /// How long a shop found idle is left alone unless woken.
    pub fn idle_poll(mut self, every: Duration) -> Self {
        self.idle_poll = every;
        self
    }

    /// How many shops' turns run at once (each turn is one shop's batch).
    pub fn parallel(mut self, n: usize) -> Self {
        self.parallel = n.max(1);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<ShopId>, HashMap<ShopId, Slot>)> {
        self.shops.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds (or replaces) a shop's dispatcher; its batch size is the shop's quantum.
    pub fn add(&self, shop: ShopId, dispatcher: Dispatcher) {
        self.add_turn(shop, Arc::new(dispatcher));
    }

    /// Adds (or replaces) a shop's turn, for a dispatcher held elsewhere (see
    /// [`DispatchTurn`]).
    pub fn add_turn(&self, shop: ShopId, dispatcher: Arc<dyn DispatchTurn>) {
        let mut g = self.lock();
        if !g.1.contains_key(&shop) {
            g.0.push(shop.clone());
        }
        g.1.insert(
            shop,
            Slot {
                dispatcher,
                idle_until: None,
                wakes: 0,
            },
        );
    }

    /// Removes a shop (uninstalled): it gets no more turns.
    pub fn remove(&self, shop: &ShopId) {
        let mut g = self.lock();
        g.0.retain(|s| s != shop);
        g.1.remove(shop);
    }

    /// Says `shop` has work due (a message enqueued), so its next turn is not skipped.
    pub fn wake(&self, shop: &ShopId) {
        if let Some(slot) = self.lock().1.get_mut(shop) {
            slot.idle_until = None;
            slot.wakes += 1;
        }
    }

    /// The shops, in the order their turns come.
    pub fn shops(&self) -> Vec<ShopId> {
        self.lock().0.clone()
    }

    /// One round: every shop not known idle gets one turn (one batch), starting after the
    /// shop that started the previous round, so no shop is always first.
    pub async fn round(&self) -> Result<RoundReport, Error> {
        let now = Instant::now();
        let turns: Vec<(ShopId, Arc<dyn DispatchTurn>, u64)> = {
            let g = self.lock();
            let n = g.0.len();
            let mut cursor = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
            let start = if n == 0 { 0 } else { *cursor % n };
            *cursor = start + 1;
            (0..n)
                .map(|i| &g.0[(start + i) % n])
                .filter_map(|s| {
                    let slot = g.1.get(s)?;
                    match slot.idle_until {
                        Some(t) if t > now => None,
                        _ => Some((s.clone(), slot.dispatcher.clone(), slot.wakes)),
                    }
                })
                .collect()
        };
        // The turns' futures are made first (a stream of closures over trait objects is
        // not `Send` for every lifetime, which `tokio::spawn` of `run` needs).
        let futs: Vec<_> = turns
            .into_iter()
            .map(|(shop, d, wakes)| {
                let span = tracing::info_span!("dispatch_turn", shop = %shop);
                async move {
                    let r = d.turn().instrument(span).await;
                    (shop, r, wakes)
                }
            })
            .collect();
        let outcomes: Vec<(ShopId, Result<DispatchReport, Error>, u64)> =
            futures::stream::iter(futs)
                .buffered(self.parallel)
                .collect()
                .await;
        let mut report = RoundReport {
            turns: outcomes.len(),
            ..Default::default()
        };
        let mut first_error = None;
        let mut g = self.lock();
        for (shop, r, wakes) in outcomes {
            match r {
                Ok(r) => {
                    let n = handled(&r);
                    if let Some(slot) = g.1.get_mut(&shop) {
                        slot.idle_until =
                            (n == 0 && slot.wakes == wakes).then(|| now + self.idle_poll);
                    }
                    if n > 0 {
                        report.handled.insert(shop, n);
                    }
                }
                Err(e) => {
                    tracing::warn!(shop = %shop, error = %e, "dispatch turn failed");
                    first_error.get_or_insert(e);
                }
            }
        }
        drop(g);
        match (first_error, report.total()) {
            (Some(e), 0) => Err(e),
            _ => Ok(report),
        }
    }

    /// Runs rounds until `shutdown` resolves, sleeping `interval` when a round found nothing.
    pub async fn run(&self, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let idle = match self.round().await {
                Ok(r) => r.total() == 0,
                Err(e) => {
                    tracing::error!(error = %e, "dispatch round failed; backing off");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = tokio::time::sleep(interval) => {}
                }
            } else if futures::poll!(&mut shutdown).is_ready() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A shop whose outbox is empty when its turn looks, and which is woken (a message
    /// enqueued by its processor) while the turn is still running.
    struct WokenDuringTurn {
        fair: std::sync::Weak<FairDispatcher>,
        shop: ShopId,
        turns: AtomicU32,
    }

    #[async_trait::async_trait]
    impl DispatchTurn for WokenDuringTurn {
        async fn turn(&self) -> Result<DispatchReport, Error> {
            if self.turns.fetch_add(1, Ordering::SeqCst) == 0
                && let Some(f) = self.fair.upgrade()
            {
                f.wake(&self.shop);
            }
            Ok(DispatchReport::default())
        }
    }

    #[tokio::test]
    async fn a_wake_during_an_empty_turn_is_not_lost() {
        let fair = Arc::new(FairDispatcher::new().idle_poll(Duration::from_secs(3600)));
        let shop = ShopId::new("a");
        let turn = Arc::new(WokenDuringTurn {
            fair: Arc::downgrade(&fair),
            shop: shop.clone(),
            turns: AtomicU32::new(0),
        });
        fair.add_turn(shop.clone(), turn.clone());
        assert_eq!(fair.round().await.unwrap().turns, 1);
        // The wake-up came after the turn looked: the next round looks again instead of
        // leaving the shop idle for an hour.
        assert_eq!(fair.round().await.unwrap().turns, 1);
        assert_eq!(turn.turns.load(Ordering::SeqCst), 2);
        // Found empty with no wake-up: idle until woken.
        assert_eq!(fair.round().await.unwrap().turns, 0);
        fair.wake(&shop);
        assert_eq!(fair.round().await.unwrap().turns, 1);
    }
}
