//! The registration policy and the merge, as an [`EventHandler`] in front of the flows.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::merge::{apply, merge};
use super::{
    REGISTRATION_KIND, Registration, SourceError, StopReason, TrackingRequest, TrackingSource,
    registration_id,
};
use crate::Error;
use crate::clock::Clock;
use crate::inbox::{EventHandler, HandlerError};
use crate::model::{PlatformEvent, Shipment, ShipmentStatus, ShopId, TrackingUpdate};
use crate::store::{Decision, InboxEntry, Ledger, LedgerEntry, Snapshot, SnapshotStore};

/// The snapshot kind of the list of numbers a source still tracks (one per source), read by
/// [`TrackingSources::sweep`].
pub const ACTIVE_KIND: &str = "tracking-active";
/// The snapshot kind of a source's quota pause (one per source).
pub const QUOTA_KIND: &str = "tracking-quota";

/// Settings of the registration policy.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TrackingSourceSettings {
    /// Tracking stops this long after registration even without a delivery (60 days by
    /// default), by [`TrackingSources::sweep`] or on the next update.
    pub max_age: chrono::Duration,
    /// How long registrations wait after a quota error that says no time (15 minutes).
    pub quota_pause: Duration,
}

impl Default for TrackingSourceSettings {
    fn default() -> Self {
        Self {
            max_age: chrono::Duration::days(60),
            quota_pause: Duration::from_secs(15 * 60),
        }
    }
}

/// Registers shipments with a tracking source and merges what tracking sources report into
/// the shipments' histories before the flows see them; see the [module](super) docs.
///
/// Put it in front of the flows (`TrackingSources::new(store, clock, Arc::new(chain))`) and
/// give it the sources' webhooks on the [`InboxProcessor`](crate::inbox::InboxProcessor).
pub struct TrackingSources {
    inner: Arc<dyn EventHandler>,
    snapshots: Arc<dyn SnapshotStore>,
    ledger: Arc<dyn Ledger>,
    clock: Arc<dyn Clock>,
    source: Option<Arc<dyn TrackingSource>>,
    settings: TrackingSourceSettings,
}

impl std::fmt::Debug for TrackingSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackingSources")
            .field("source", &self.source.as_ref().map(|s| s.name().to_owned()))
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TrackingSources {
    /// Merges tracking updates over `store`'s shipments and hands every event on to `inner`
    /// (the flows). Registers nothing until [`Self::register_with`].
    pub fn new<S: SnapshotStore + Ledger + 'static>(
        store: Arc<S>,
        clock: Arc<dyn Clock>,
        inner: Arc<dyn EventHandler>,
    ) -> Self {
        Self {
            inner,
            snapshots: store.clone(),
            ledger: store,
            clock,
            source: None,
            settings: TrackingSourceSettings::default(),
        }
    }

    /// Registers every shipment the shop creates with `source`.
    pub fn register_with(mut self, source: Arc<dyn TrackingSource>) -> Self {
        self.source = Some(source);
        self
    }

    /// Replaces the settings.
    pub fn settings(mut self, settings: TrackingSourceSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The registration of a tracking number with a source, if any.
    pub async fn registration(
        &self,
        source: &str,
        tracking_number: &str,
    ) -> Result<Option<Registration>, Error> {
        Ok(self
            .snapshots
            .snapshot(REGISTRATION_KIND, &registration_id(source, tracking_number))
            .await?
            .and_then(|s| serde_json::from_value(s.data).ok()))
    }

    async fn shipment(&self, id: &str) -> Result<Option<Shipment>, Error> {
        Ok(self
            .snapshots
            .snapshot("shipment", id)
            .await?
            .and_then(|s| serde_json::from_value(s.data).ok()))
    }

    async fn note(
        &self,
        decision: Decision,
        order: Option<&str>,
        shop: Option<&ShopId>,
        reason: String,
    ) {
        let mut e = LedgerEntry::new(self.clock.now(), decision, reason);
        e.order_id = order.map(Into::into);
        e.shop = shop.cloned();
        if let Err(err) = self.ledger.record(e).await {
            tracing::warn!(error = %err, "could not write a tracking-source ledger row");
        }
    }

    async fn save(&self, reg: &Registration, shop: Option<&ShopId>) -> Result<(), Error> {
        self.snapshots
            .put_if_newer(&Snapshot {
                kind: REGISTRATION_KIND.into(),
                shop: shop.cloned(),
                id: registration_id(&reg.source, &reg.request.tracking_number),
                version: self.clock.now(),
                data: serde_json::to_value(reg).map_err(|e| Error::decode("registration", e))?,
            })
            .await?;
        Ok(())
    }

    async fn active(&self, source: &str) -> Result<Vec<String>, Error> {
        Ok(self
            .snapshots
            .snapshot(ACTIVE_KIND, source)
            .await?
            .and_then(|s| serde_json::from_value(s.data).ok())
            .unwrap_or_default())
    }

    async fn set_active(&self, source: &str, numbers: Vec<String>) -> Result<(), Error> {
        self.snapshots
            .put_if_newer(&Snapshot {
                kind: ACTIVE_KIND.into(),
                shop: None,
                id: source.into(),
                version: self.clock.now(),
                data: serde_json::Value::from(numbers),
            })
            .await?;
        Ok(())
    }

    async fn paused_until(&self, source: &str) -> Result<Option<DateTime<Utc>>, Error> {
        Ok(self
            .snapshots
            .snapshot(QUOTA_KIND, source)
            .await?
            .and_then(|s| s.data.as_str().and_then(|t| t.parse().ok())))
    }

    /// Registers `shipment` with the configured source unless it already is (or it has no
    /// tracking number, or no source is configured). Quota errors pause registrations and
    /// retry the inbox entry later; a refused number is recorded (not retried) with the reason.
    async fn ensure_registered(&self, shipment: &Shipment) -> Result<(), HandlerError> {
        let Some(source) = &self.source else {
            return Ok(());
        };
        let Some(request) = TrackingRequest::for_shipment(shipment) else {
            return Ok(());
        };
        let name = source.name().to_owned();
        if self
            .registration(&name, &request.tracking_number)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let now = self.clock.now();
        if let Some(until) = self.paused_until(&name).await?
            && until > now
        {
            return Err(HandlerError::Retry(format!(
                "registrations with {name} wait until {until} (quota)"
            )));
        }
        let order = request.order_id.as_str().to_owned();
        match source.register(&request).await {
            Ok(registered) => {
                let reg = Registration {
                    source: name.clone(),
                    request: request.clone(),
                    registered,
                    registered_at: now,
                    stopped: None,
                };
                self.save(&reg, request.shop.as_ref()).await?;
                let mut active = self.active(&name).await?;
                if !active.contains(&request.tracking_number) {
                    active.push(request.tracking_number.clone());
                    self.set_active(&name, active).await?;
                }
                tracing::info!(source = %name, shipment = %request.shipment_id, "shipment registered for tracking");
                Ok(())
            }
            Err(SourceError::Quota {
                retry_after,
                message,
            }) => {
                let wait = retry_after.unwrap_or(self.settings.quota_pause);
                let until = now + chrono::Duration::from_std(wait).unwrap_or_default();
                self.snapshots
                    .put_if_newer(&Snapshot {
                        kind: QUOTA_KIND.into(),
                        shop: None,
                        id: name.clone(),
                        version: now,
                        data: serde_json::Value::String(until.to_rfc3339()),
                    })
                    .await?;
                let why = format!(
                    "registering tracking number {} with {name} deferred until {until}: quota used up ({message})",
                    request.tracking_number
                );
                self.note(
                    Decision::Deferred,
                    Some(&order),
                    request.shop.as_ref(),
                    why.clone(),
                )
                .await;
                Err(HandlerError::Retry(why))
            }
            Err(SourceError::Transient { message, .. }) => Err(HandlerError::Retry(format!(
                "registering with {name} failed for now: {message}"
            ))),
            Err(SourceError::Permanent(message)) => {
                let why = format!(
                    "{name} refused to track number {}: {message}",
                    request.tracking_number
                );
                let reg = Registration {
                    source: name.clone(),
                    request: request.clone(),
                    registered: Default::default(),
                    registered_at: now,
                    stopped: Some((now, why.clone())),
                };
                self.save(&reg, request.shop.as_ref()).await?;
                self.note(Decision::Skipped, Some(&order), request.shop.as_ref(), why)
                    .await;
                Ok(())
            }
        }
    }

    /// Stops tracking at the source (once) and records why; a failure is logged and left for
    /// the next update or sweep.
    async fn stop(&self, mut reg: Registration, reason: StopReason) -> Result<(), Error> {
        if reg.stopped.is_some() {
            return Ok(());
        }
        let Some(source) = self.source.as_ref().filter(|s| s.name() == reg.source) else {
            return Ok(());
        };
        if let Err(e) = source.stop(&reg, &reason).await {
            tracing::warn!(source = %reg.source, error = %e, "could not stop tracking; will try again");
            return Ok(());
        }
        reg.stopped = Some((self.clock.now(), reason.to_string()));
        self.save(&reg, reg.request.shop.as_ref()).await?;
        let mut active = self.active(&reg.source).await?;
        active.retain(|n| n != &reg.request.tracking_number);
        self.set_active(&reg.source, active).await?;
        Ok(())
    }

    fn expired(&self, reg: &Registration) -> bool {
        self.clock.now() - reg.registered_at > self.settings.max_age
    }

    /// Stops tracking every number registered longer than
    /// [`TrackingSourceSettings::max_age`] ago; returns how many. Run it daily.
    ///
    /// The list it reads is one snapshot per source, rewritten on each registration and
    /// stop; run one processor per source, or a number registered concurrently may be left
    /// out of the list (it is still stopped on delivery or on its next late update).
    pub async fn sweep(&self) -> Result<u32, Error> {
        let Some(source) = &self.source else {
            return Ok(0);
        };
        let mut stopped = 0;
        for number in self.active(source.name()).await? {
            if let Some(reg) = self.registration(source.name(), &number).await?
                && reg.stopped.is_none()
                && self.expired(&reg)
            {
                self.stop(reg, StopReason::TooOld).await?;
                stopped += 1;
            }
        }
        Ok(stopped)
    }

    /// The shipment an update is about, merged: `None` when no registration names it.
    async fn merge_update(
        &self,
        update: &TrackingUpdate,
    ) -> Result<Option<(Shipment, Registration)>, Error> {
        let Some(reg) = self
            .registration(&update.source, &update.tracking_number)
            .await?
        else {
            return Ok(None);
        };
        let stored = self.shipment(reg.request.shipment_id.as_str()).await?;
        let base = stored.clone().unwrap_or_else(|| {
            let mut s = Shipment::new(
                reg.request.shipment_id.clone(),
                reg.request.order_id.clone(),
                ShipmentStatus::Confirmed,
            );
            s.shop.clone_from(&reg.request.shop);
            s.carrier.clone_from(&reg.request.carrier);
            s.tracking_numbers = vec![reg.request.tracking_number.clone()];
            s
        });
        Ok(Some((merge(stored.as_ref(), &apply(&base, update)), reg)))
    }
}

#[async_trait]
impl EventHandler for TrackingSources {
    async fn handle(
        &self,
        entry: &InboxEntry,
        events: Vec<PlatformEvent>,
    ) -> Result<(), HandlerError> {
        let mut out = Vec::with_capacity(events.len());
        let mut to_register = Vec::new();
        let mut to_stop = Vec::new();
        for event in events {
            match event {
                PlatformEvent::ShipmentCreated { shipment } => {
                    let merged = merge(
                        self.shipment(shipment.id.as_str()).await?.as_ref(),
                        &shipment,
                    );
                    to_register.push(merged.clone());
                    out.push(PlatformEvent::ShipmentCreated { shipment: merged });
                }
                PlatformEvent::ShipmentUpdated { shipment } => {
                    let merged = merge(
                        self.shipment(shipment.id.as_str()).await?.as_ref(),
                        &shipment,
                    );
                    to_register.push(merged.clone());
                    out.push(PlatformEvent::ShipmentUpdated { shipment: merged });
                }
                PlatformEvent::TrackingUpdated { update } => {
                    match self.merge_update(&update).await? {
                        Some((merged, reg)) => {
                            if merged.status.is_final() {
                                to_stop.push((reg, StopReason::Final(merged.status.clone())));
                            } else if self.expired(&reg) {
                                to_stop.push((reg, StopReason::TooOld));
                            }
                            out.push(PlatformEvent::ShipmentUpdated { shipment: merged });
                        }
                        None => {
                            tracing::warn!(source = %update.source, "tracking update for a number no shipment registered");
                            self.note(
                                Decision::Skipped,
                                None,
                                None,
                                format!(
                                    "{} reported on tracking number {}, which no shipment registered with it",
                                    update.source, update.tracking_number
                                ),
                            )
                            .await;
                        }
                    }
                }
                other => out.push(other),
            }
        }
        self.inner.handle(entry, out).await?;
        for shipment in to_register {
            if shipment.status.is_final() {
                if let (Some(source), Some(req)) =
                    (&self.source, TrackingRequest::for_shipment(&shipment))
                    && let Some(reg) = self
                        .registration(source.name(), &req.tracking_number)
                        .await?
                {
                    self.stop(reg, StopReason::Final(shipment.status.clone()))
                        .await?;
                }
                continue;
            }
            self.ensure_registered(&shipment).await?;
        }
        for (reg, why) in to_stop {
            self.stop(reg, why).await?;
        }
        Ok(())
    }
}
