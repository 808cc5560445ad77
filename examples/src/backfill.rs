//! `tracking-links backfill`: shipments already in flight when Aftercare is installed.
//!
//! Orders updated since a date are read through [`OrderSource::updated_since`], then their
//! shipments. A dry run lists what the tracking flow would send (order, shipment,
//! milestone, channel, recipient masked); `--send` hands each shipment to
//! [`TrackingFlow::on_shipment`](aftercare::flows::tracking::TrackingFlow::on_shipment), so the outbox dedupes as usual and a running
//! `tracking-links run` sends them.

use std::io::IsTerminal as _;
use std::sync::Arc;

use aftercare::clock::{Clock, SystemClock};
use aftercare::flows::reach::choose_channel;
use aftercare::flows::tracking::{FlowStore, Milestone};
use aftercare::model::Purpose;
use aftercare::platform::{CustomerDirectory, OrderSource};
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::TrackingLinksConfig;
use crate::real::{BoxError, StoreHandle, shopify_client, tracking_flow, with_store};

/// What a backfill found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BackfillReport {
    /// Orders read.
    pub orders: usize,
    /// Shipments read.
    pub shipments: usize,
    /// Shipments at a milestone that is enabled: listed, or handed to the flow.
    pub candidates: usize,
    /// Of those, the ones no channel reaches (dry run only).
    pub unreachable: usize,
    /// Of those, the ones whose message is already in the outbox (dry run only).
    pub already: usize,
}

/// Masks an address for listing: `+9053•••••567`, `a•••@example.com`.
pub fn mask(address: &str) -> String {
    if let Some((local, domain)) = address.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}•••@{domain}");
    }
    let chars: Vec<char> = address.chars().collect();
    if chars.len() <= 6 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}{}{tail}", "•".repeat(chars.len() - 7))
}

/// Runs the backfill: a dry run unless `send`. Lines go to stdout; a progress bar to stderr
/// when stdout is a terminal.
pub async fn run(
    cfg: &TrackingLinksConfig,
    since: DateTime<Utc>,
    send: bool,
) -> Result<BackfillReport, BoxError> {
    with_store(cfg, |store| async move {
        match store {
            StoreHandle::Sqlite(s) => backfill(cfg, s, since, send).await,
            StoreHandle::Postgres(s) => backfill(cfg, s, since, send).await,
        }
    })
    .await
}

async fn backfill<S: FlowStore + 'static>(
    cfg: &TrackingLinksConfig,
    store: Arc<S>,
    since: DateTime<Utc>,
    send: bool,
) -> Result<BackfillReport, BoxError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let shop = Arc::new(shopify_client(cfg)?);
    let flow = tracking_flow(cfg, shop.clone(), shop.clone(), store.clone(), clock)?;
    let bar = if std::io::stdout().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut report = BackfillReport::default();
    let say = |line: String| {
        if bar.is_hidden() {
            println!("{line}");
        } else {
            bar.suspend(|| println!("{line}"));
        }
    };
    say(format!(
        "{} shipments of orders updated since {}:",
        if send {
            "Enqueuing"
        } else {
            "Dry run: would send for"
        },
        since.to_rfc3339()
    ));
    let mut orders = shop.updated_since(since);
    while let Some(order) = orders.next().await {
        let order = order?;
        report.orders += 1;
        bar.set_message(format!(
            "{} orders, {} shipments, {} to send",
            report.orders, report.shipments, report.candidates
        ));
        if order.cancelled {
            continue;
        }
        let shipments = shop.shipments(&order.id).await?;
        report.shipments += shipments.len();
        let mut customer = None;
        let mut customer_read = false;
        for s in shipments {
            let Some(m) = Milestone::from_status(&s.status) else {
                continue;
            };
            if !cfg.tracking.milestones.contains(&m) {
                continue;
            }
            report.candidates += 1;
            if send {
                flow.on_shipment(&s).await?;
                say(format!(
                    "  {}  shipment {}  {}  enqueued",
                    order.number,
                    s.id,
                    m.as_str()
                ));
                continue;
            }
            if !customer_read {
                customer_read = true;
                if let Some(id) = &order.customer_id {
                    customer = shop.customer(id).await?;
                }
            }
            match choose_channel(
                store.as_ref(),
                &cfg.tracking.channels,
                Purpose::Transactional,
                &order,
                customer.as_ref(),
            )
            .await?
            {
                Ok(chosen) => {
                    let (channel, to) = (chosen.channel, chosen.address);
                    // The flow's idempotency key: a message already in the outbox is not
                    // sent again.
                    let key = format!("tracking:{}:{}:{}:{channel}", order.id, s.id, m.as_str());
                    let already = match store.outbox_by_key(&key).await? {
                        Some(e) => {
                            report.already += 1;
                            format!("  (already {})", e.status.as_str())
                        }
                        None => String::new(),
                    };
                    say(format!(
                        "  {}  shipment {}  {}  {}  {}{already}",
                        order.number,
                        s.id,
                        m.as_str(),
                        channel,
                        mask(&to)
                    ));
                }
                Err(why) => {
                    report.unreachable += 1;
                    say(format!(
                        "  {}  shipment {}  {}  -  not sent: {why}",
                        order.number,
                        s.id,
                        m.as_str()
                    ));
                }
            }
        }
    }
    bar.finish_and_clear();
    say(format!(
        "{} orders, {} shipments, {} at an enabled milestone{}.",
        report.orders,
        report.shipments,
        report.candidates,
        if send {
            " handed to the tracking flow (already-sent milestones are not sent again; `tracking-links run` sends the rest)".to_owned()
        } else {
            format!(
                ", {} unreachable, {} already in the outbox; run again with --send to enqueue the rest",
                report.unreachable, report.already
            )
        }
    ));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks() {
        assert_eq!(mask("+905321234567"), "+905••••••567");
        assert_eq!(mask("ayse@example.com"), "a•••@example.com");
        assert_eq!(mask("12345"), "•••••");
    }
}
