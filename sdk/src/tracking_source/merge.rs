//! One shipment history from several reporters (the shop platform and a tracking source).
//!
//! Rules, in order:
//! 1. From the same reporter as the stored status, time decides, as it always did: an older
//!    state is handed on unchanged (the flow refuses it and says so in the ledger), a newer
//!    one wins — a redelivery after a failed attempt is progress.
//! 2. From another reporter, a state never takes the shipment backwards: a final status
//!    (delivered, returned, cancelled) is never left for a non-final one, and a status of
//!    lower progress is kept out (the shop's lagging "in transit" after the source's "out
//!    for delivery"). A higher one wins even when the other reporter's clock says it is a
//!    little older; an equal one wins when it is newer.
//! 3. An unknown status never replaces a known one (its raw text stays in the events).
//!
//! Events from every reporter are kept, once each, oldest first; the estimate and the pickup
//! point are the latest given.

use chrono::{DateTime, Utc};

use crate::model::{Shipment, ShipmentEvent, ShipmentStatus, TrackingUpdate};

fn state_time(s: &Shipment) -> Option<DateTime<Utc>> {
    s.updated_at.or(s.created_at)
}

/// The shipment `base` as `update` describes it: its status, reporter and time, the
/// source's events (tagged with the source and its raw values), estimate and pickup point.
pub fn apply(base: &Shipment, update: &TrackingUpdate) -> Shipment {
    let mut s = base.clone();
    s.status = update.status.clone();
    s.status_source = Some(update.source.clone());
    s.updated_at = Some(update.happened_at);
    let mut events: Vec<ShipmentEvent> = update
        .events
        .iter()
        .cloned()
        .map(|mut e| {
            e.source.get_or_insert_with(|| update.source.clone());
            e
        })
        .collect();
    // The current state is an event of its own when the source listed none at that time.
    if !events
        .iter()
        .any(|e| e.status == update.status && e.happened_at == update.happened_at)
    {
        let mut e = ShipmentEvent::new(update.status.clone(), update.happened_at);
        e.source = Some(update.source.clone());
        e.raw_status = Some(update.raw_status.clone());
        e.raw_sub_status = update.raw_sub_status.clone();
        events.push(e);
    }
    s.events = union(&base.events, &events);
    if update.estimated_delivery.is_some() {
        s.estimated_delivery = update.estimated_delivery;
    }
    if s.carrier.is_none() {
        s.carrier.clone_from(&update.carrier);
    }
    s.pickup_point = update.pickup_point.clone().or_else(|| {
        (update.status == ShipmentStatus::ReadyForPickup)
            .then(|| {
                s.events
                    .iter()
                    .rev()
                    .find(|e| e.status == ShipmentStatus::ReadyForPickup)
                    .and_then(|e| e.location.clone())
            })
            .flatten()
            .or_else(|| base.pickup_point.clone())
    });
    s
}

/// Both event lists, each event once, oldest first.
pub fn union(a: &[ShipmentEvent], b: &[ShipmentEvent]) -> Vec<ShipmentEvent> {
    let mut out: Vec<ShipmentEvent> = Vec::with_capacity(a.len() + b.len());
    for e in a.iter().chain(b) {
        if !out.iter().any(|o| o.same_as(e)) {
            out.push(e.clone());
        }
    }
    out.sort_by_key(|e| e.happened_at);
    out
}

/// Merges an incoming state (`incoming.status_source` names its reporter) into the stored
/// one, by the rules above.
pub fn merge(stored: Option<&Shipment>, incoming: &Shipment) -> Shipment {
    let Some(stored) = stored else {
        return incoming.clone();
    };
    let (t_in, t_st) = (state_time(incoming), state_time(stored));
    let same_reporter = incoming.status_source == stored.status_source;
    if same_reporter && matches!((t_in, t_st), (Some(i), Some(s)) if i < s) {
        return incoming.clone();
    }
    let unknown_over_known = matches!(incoming.status, ShipmentStatus::Unknown(_))
        && !matches!(stored.status, ShipmentStatus::Unknown(_));
    // Never from final to not final, never to lower progress; equal progress by time.
    let forward = (!stored.status.is_final() || incoming.status.is_final())
        && (incoming.status.progress() > stored.status.progress()
            || incoming.status.progress() == stored.status.progress() && t_in >= t_st);
    let takes_status = !unknown_over_known && (same_reporter || forward);
    let mut out = incoming.clone();
    if !takes_status {
        out.status = stored.status.clone();
        out.status_source.clone_from(&stored.status_source);
    }
    out.events = union(&stored.events, &incoming.events);
    out.updated_at = t_in.max(t_st);
    out.created_at = stored.created_at.or(incoming.created_at);
    if out.estimated_delivery.is_none() {
        out.estimated_delivery = stored.estimated_delivery;
    }
    if out.pickup_point.is_none() {
        out.pickup_point.clone_from(&stored.pickup_point);
    }
    if out.carrier.is_none() {
        out.carrier.clone_from(&stored.carrier);
    }
    if out.shop.is_none() {
        out.shop.clone_from(&stored.shop);
    }
    for (mine, theirs) in [
        (&mut out.tracking_numbers, &stored.tracking_numbers),
        (&mut out.tracking_urls, &stored.tracking_urls),
        (&mut out.line_item_ids, &stored.line_item_ids),
    ] {
        if mine.is_empty() {
            mine.clone_from(theirs);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        format!("2026-03-03T{h:02}:00:00Z").parse().unwrap()
    }

    fn platform(status: ShipmentStatus, h: u32) -> Shipment {
        let mut s = Shipment::new("f1", "o1", status);
        s.tracking_numbers = vec!["1Z5R89390357567127".into()];
        s.updated_at = Some(at(h));
        s
    }

    fn source(base: &Shipment, status: ShipmentStatus, raw: &str, h: u32) -> Shipment {
        apply(
            base,
            &TrackingUpdate::new("aftership", "1Z5R89390357567127", status, raw, at(h)),
        )
    }

    #[test]
    fn a_lagging_platform_state_does_not_take_the_source_backwards() {
        let p = platform(ShipmentStatus::InTransit, 8);
        let ofd = source(&p, ShipmentStatus::OutForDelivery, "OutForDelivery", 9);
        let stored = merge(Some(&p), &ofd);
        assert_eq!(stored.status, ShipmentStatus::OutForDelivery);
        // The shop reports "in transit" later (its clock): the shipment stays out for delivery.
        let late = platform(ShipmentStatus::InTransit, 10);
        let m = merge(Some(&stored), &late);
        assert_eq!(m.status, ShipmentStatus::OutForDelivery);
        assert_eq!(m.status_source.as_deref(), Some("aftership"));
        assert_eq!(m.updated_at, Some(at(10)));
    }

    #[test]
    fn delivered_is_never_left_for_another_reporters_state() {
        let p = platform(ShipmentStatus::InTransit, 8);
        let d = merge(
            Some(&p),
            &source(&p, ShipmentStatus::Delivered, "Delivered", 9),
        );
        let m = merge(Some(&d), &platform(ShipmentStatus::Exception, 11));
        assert_eq!(m.status, ShipmentStatus::Delivered);
    }

    #[test]
    fn the_same_reporter_may_go_from_attempt_back_to_out_for_delivery() {
        let p = platform(ShipmentStatus::InTransit, 8);
        let a = merge(
            Some(&p),
            &source(&p, ShipmentStatus::AttemptedDelivery, "AttemptFail", 9),
        );
        let again = merge(
            Some(&a),
            &source(&a, ShipmentStatus::OutForDelivery, "OutForDelivery", 10),
        );
        assert_eq!(again.status, ShipmentStatus::OutForDelivery);
        // An older state from the same reporter is handed on unchanged (refused downstream).
        let old = source(&a, ShipmentStatus::InTransit, "InTransit", 7);
        assert_eq!(merge(Some(&again), &old), old);
    }

    #[test]
    fn an_unknown_status_never_replaces_a_known_one_but_stays_in_the_events() {
        let p = platform(ShipmentStatus::InTransit, 8);
        let u = source(&p, ShipmentStatus::Unknown("Expired".into()), "Expired", 9);
        let m = merge(Some(&p), &u);
        assert_eq!(m.status, ShipmentStatus::InTransit);
        assert!(
            m.events
                .iter()
                .any(|e| e.raw_status.as_deref() == Some("Expired"))
        );
    }

    #[test]
    fn events_from_both_reporters_are_kept_once_each_in_order() {
        let mut p = platform(ShipmentStatus::InTransit, 8);
        p.events = vec![ShipmentEvent::new(ShipmentStatus::InTransit, at(8))];
        let mut u = TrackingUpdate::new(
            "aftership",
            "1Z5R89390357567127",
            ShipmentStatus::OutForDelivery,
            "OutForDelivery",
            at(9),
        );
        let mut e = ShipmentEvent::new(ShipmentStatus::OutForDelivery, at(9));
        e.message = Some("Out for delivery".into());
        u.events = vec![e.clone(), e];
        let once = apply(&p, &u);
        let twice = merge(Some(&once), &apply(&once, &u));
        assert_eq!(twice.events.len(), 2);
        assert!(twice.events[0].happened_at < twice.events[1].happened_at);
        assert_eq!(twice.events[1].source.as_deref(), Some("aftership"));
    }

    #[test]
    fn the_pickup_point_comes_from_the_ready_for_pickup_event() {
        let p = platform(ShipmentStatus::InTransit, 8);
        let mut u = TrackingUpdate::new(
            "easypost",
            "1Z5R89390357567127",
            ShipmentStatus::ReadyForPickup,
            "available_for_pickup",
            at(9),
        );
        let mut e = ShipmentEvent::new(ShipmentStatus::ReadyForPickup, at(9));
        e.location = Some("Kiosk 4, Main St 1, Springfield".into());
        u.events = vec![e];
        let m = apply(&p, &u);
        assert_eq!(
            m.pickup_point.as_deref(),
            Some("Kiosk 4, Main St 1, Springfield")
        );
    }
}
