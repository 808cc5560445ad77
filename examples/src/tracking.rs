//! The tracking-links demo on embedded defaults: the sandbox shop and carrier, SQLite, the
//! console channels and the tracking page on localhost, with a simulated clock so a week of
//! parcel life plays in seconds.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use aftercare::clock::{Clock, ManualClock};
use aftercare::content::ContentMap;
use aftercare::dispatch::Dispatcher;
use aftercare::flows::Chain;
use aftercare::flows::privacy::PrivacyHandler;
use aftercare::flows::tracking::{
    QuietHoursPolicy, SupersededPolicy, TrackingFlow, TrackingSettings,
};
use aftercare::http::WebhookRoutes;
use aftercare::http::tracking::TrackingPage;
use aftercare::inbox::InboxProcessor;
use aftercare::model::{ChannelKind, OrderId};
use aftercare::store::{Decision, Ledger, Outbox, OutboxStatus};
use aftercare::token::TokenSigner;
use aftercare::webhook::Secret;
use aftercare_sandbox::{CarrierScript, Delivery, Sandbox};
use aftercare_sqlite::SqliteStore;
use chrono::NaiveTime;

use aftercare::l10n::Catalogs;
use aftercare::platform::OrderSource;

use crate::platform::DemoShop;
pub use crate::platform::{DEMO_BC_STORE, DEMO_WOO_SITE, DemoPlatform};

/// Options of the demo.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The platform the sandbox plays.
    pub platform: DemoPlatform,
    /// The SQLite file (recreated).
    pub db: PathBuf,
    /// Where to serve the webhook endpoint and the tracking page.
    pub bind: SocketAddr,
    /// Keep serving the tracking page after the story, until Ctrl-C.
    pub serve: bool,
    /// A carrier-tracking source the sandbox plays (its webhooks tell the carrier's steps).
    pub tracking_source: Option<crate::tracking_source::DemoTrackingSource>,
}

/// The demo's app secret: the sandbox signs with it, the Shopify source verifies with it.
pub const DEMO_APP_SECRET: &str = "shpss_aftercare_local_demo";
const DEMO_LINK_KEY: &str = "aftercare-demo-link-key";

/// Tutorials per product category, in several languages.
pub fn demo_content() -> ContentMap {
    serde_json::from_value(serde_json::json!([
        {"match": {"category": "espresso-machines"}, "title": "Your first espresso in 5 minutes", "url": "https://example.com/guides/espresso/first-shot"},
        {"match": {"category": "espresso-machines"}, "locale": "ar", "title": "أول إسبريسو لك في 5 دقائق", "url": "https://example.com/ar/guides/espresso/first-shot"},
        {"match": {"category": "espresso-machines"}, "locale": "tr", "title": "5 dakikada ilk espressonuz", "url": "https://example.com/tr/guides/espresso/first-shot"},
        {"match": {"category": "coffee-beans"}, "title": "Storing your beans", "url": "https://example.com/guides/beans/storage"},
        {"match": {"category": "coffee-beans"}, "locale": "ar", "title": "كيف تحفظ حبوب القهوة", "url": "https://example.com/ar/guides/beans/storage"},
        {"match": {"category": "coffee-beans"}, "locale": "tr", "title": "Çekirdekleri saklama rehberi", "url": "https://example.com/tr/guides/beans/storage"}
    ]))
    .unwrap_or_default()
}

fn say(line: &str) {
    println!("{}", crate::cli::heading(line));
}

/// Runs the story.
pub async fn run(opts: DemoOptions) -> Result<(), Box<dyn std::error::Error>> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", opts.db.display()));
    }
    let store = SqliteStore::open(&opts.db).await?;
    let start = "2026-03-02T06:00:00Z".parse()?;
    let sb = Sandbox::console(Secret::from(DEMO_APP_SECRET), start);
    let clock: Arc<ManualClock> = sb.clock.clone();
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let text = Arc::new(Catalogs::new("Sandbox Coffee Co."));
    let links = TokenSigner::new(Secret::from(DEMO_LINK_KEY), "tracking");

    let listener = crate::cli::listen(opts.bind, "--bind").await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let demo = DemoShop::new(opts.platform, DEMO_APP_SECRET, sb.shop.domain())?;
    let source = demo.source();
    let name = opts.platform.source_name();
    let mut settings = TrackingSettings::default();
    settings.public_url.clone_from(&base);
    settings.support_url = Some("https://example.com/support".into());
    settings.short_links = true;
    let tracking: Arc<TrackingFlow> = Arc::new(TrackingFlow::new(
        sb.shop.clone(),
        sb.shop.clone(),
        Arc::new(store.clone()),
        text.clone(),
        demo_content(),
        links.clone(),
        dyn_clock.clone(),
        settings,
    ));
    let handler: Arc<dyn aftercare::inbox::EventHandler> = Arc::new(
        Chain::new()
            .then(Arc::new(
                PrivacyHandler::new(Arc::new(store.clone())).clock(dyn_clock.clone()),
            ))
            .then(tracking.clone()),
    );
    let tracker = opts
        .tracking_source
        .map(|k| crate::tracking_source::DemoTracking::new(k, &base))
        .transpose()?;
    let handler = match &tracker {
        Some(t) => t.wrap(Arc::new(store.clone()), dyn_clock.clone(), handler),
        None => handler,
    };
    let mut processor = InboxProcessor::new(Arc::new(store.clone()), handler, dyn_clock.clone())
        .source(name, source.clone());
    if let Some(t) = &tracker {
        processor = processor.source(t.name(), t.source());
    }
    let processor = demo.hydrate(processor, &base)?;
    let mut dispatcher = Dispatcher::new(Arc::new(store.clone()), dyn_clock.clone())
        .consent_store(Arc::new(store.clone()))
        .policy(Arc::new(SupersededPolicy::new(Arc::new(store.clone()))))
        .policy(Arc::new(QuietHoursPolicy::new(
            NaiveTime::from_hms_opt(21, 0, 0).unwrap_or_default(),
            NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            chrono_tz::UTC,
        )));
    for ch in sb.channels() {
        dispatcher = dispatcher.channel(ch);
    }
    let mut routes =
        WebhookRoutes::new(Arc::new(store.clone()), dyn_clock.clone()).source(name, source);
    if let Some(t) = &tracker {
        routes = routes.source(t.name(), t.source());
    }
    let app = routes
        .into_router()
        .merge(tracker.as_ref().map(|t| t.api_router()).unwrap_or_default())
        .merge(
            TrackingPage::new(sb.shop.clone(), links, text.clone(), dyn_clock.clone())
                .shipments_from(Arc::new(store.clone()))
                .content(demo_content())
                .support_url("https://example.com/support")
                .short_links(Arc::new(store.clone()))
                .into_router(),
        )
        .merge(demo.api_router(sb.shop.clone()));
    let server = tokio::spawn(aftercare::http::serve(
        listener,
        app,
        aftercare::http::ServeOptions::default(),
    ));
    let hook_url = format!("{base}/webhooks/{name}");
    println!(
        "Aftercare tracking-links demo: sandbox shop on {}, SQLite at {}, console channels, pages on {base}",
        opts.platform.title(),
        opts.db.display()
    );
    if let Some(t) = &tracker {
        println!(
            "   Tracking source: the sandbox plays {} (its API on {base}, its signed webhooks to {base}/webhooks/{}).",
            t.name(),
            t.name()
        );
    } else if !opts.platform.reports_carrier_events() {
        println!(
            "   {} reports no carrier events: after \"shipped\", milestones need a carrier-tracking source.",
            opts.platform.title()
        );
    }

    // The sandbox tells its story in Shopify's terms; another platform's deliveries stand
    // for them as that platform would send them (or not at all).
    // With a tracking source, it tells the carrier's steps as well (its own webhooks).
    let deliver = |ds: Vec<Delivery>| {
        let sender = sb.sender.clone();
        let url = hook_url.clone();
        let source_url = tracker
            .as_ref()
            .map(|t| format!("{base}/webhooks/{}", t.name()));
        let from_source = tracker
            .as_ref()
            .map(|t| t.translate(&sb.shop, &ds))
            .unwrap_or_default();
        let ds = demo.translate(&sb.shop, ds);
        async move {
            let mut codes = Vec::new();
            for d in &ds {
                codes.push(sender.post(&url, d).await?);
            }
            if let Some(u) = &source_url {
                for d in &from_source {
                    codes.push(sender.post(u, d).await?);
                }
            }
            Ok::<_, aftercare_sandbox::SandboxError>(codes)
        }
    };
    let settle = || async {
        processor.drain().await?;
        dispatcher.drain().await?;
        Ok::<_, aftercare::Error>(())
    };

    // Story 1: Jane in the US, English, failed attempt, a duplicate and a late webhook.
    let mut orders: Vec<(String, String)> = Vec::new();
    for (locale, script, label) in [
        (
            "en-US",
            CarrierScript::failed_attempt_then_redelivery()
                .duplicate(2)
                .deliver_late(3, 4),
            "en-US customer: a failed attempt, one webhook delivered twice, one out of order",
        ),
        (
            "ar-SA",
            CarrierScript::happy_path(),
            "ar-SA customer: Arabic, right to left",
        ),
        ("tr-TR", CarrierScript::delayed(), "tr-TR customer: a delay"),
    ] {
        say(label);
        let shipped = sb.ship(locale)?;
        let codes = deliver(shipped.deliveries.clone()).await?;
        println!(
            "   shop → {} webhooks (order placed, paid, shipped): HTTP {codes:?}",
            codes.len()
        );
        settle().await?;
        let mut scenario = sb.scenario(shipped.fulfillment, script);
        while let Some(step) = scenario.next_step()? {
            let codes = deliver(step.deliveries.clone()).await?;
            println!(
                "   {} carrier: {:?} → {} webhook(s), HTTP {codes:?}",
                step.at.format("%a %d %b %H:%M UTC"),
                step.milestone,
                codes.len()
            );
            settle().await?;
        }
        // Let deferred messages (quiet hours) go out.
        for _ in 0..3 {
            clock.advance(chrono::Duration::hours(12));
            settle().await?;
        }
        orders.push((shipped.order.to_string(), locale.to_owned()));
    }

    if let Some(t) = &tracker {
        say(&format!(
            "{} tracked {} shipment(s), registered once each",
            t.name(),
            t.registered()
        ));
    }
    say("What the ledger says");
    for (order, locale) in &orders {
        let rows = store.ledger_for_order(&OrderId::new(order.clone())).await?;
        let count = |d: Decision| rows.iter().filter(|r| r.decision == d).count();
        println!(
            "   order {order} ({locale}): {} sent, {} deferred, {} skipped",
            count(Decision::Sent),
            count(Decision::Deferred),
            count(Decision::Skipped)
        );
        for r in rows
            .iter()
            .filter(|r| matches!(r.decision, Decision::Deferred | Decision::Skipped))
        {
            println!("      {:<9} {}", r.decision.as_str(), r.reason);
        }
    }
    let sent = store.outbox_in(OutboxStatus::Sent, 1000).await?;
    let mut pages = Vec::new();
    for (order, _) in &orders {
        let id = OrderId::new(order.clone());
        if let (Some(o), Some(s)) = (
            sb.shop.order(&id).await?,
            sb.shop.shipments(&id).await?.into_iter().next(),
        ) {
            pages.push(tracking.page_url(&o, &s));
        }
    }
    let per_channel = |k: ChannelKind| sent.iter().filter(|m| m.message.channel == k).count();
    println!(
        "\n{} messages sent (WhatsApp {}, SMS {}, email {}). Explain any order with: cargo run -p aftercare-examples --bin tracking-links -- ledger --db {} --order <id>",
        sent.len(),
        per_channel(ChannelKind::Whatsapp),
        per_channel(ChannelKind::Sms),
        per_channel(ChannelKind::Email),
        opts.db.display()
    );
    for (i, (order, locale)) in orders.iter().enumerate() {
        if let Some(url) = pages.get(i) {
            println!("Tracking page for order {order} ({locale}): {url}");
        }
    }
    if opts.serve {
        println!("Serving the pages until Ctrl-C.");
        tokio::signal::ctrl_c().await?;
    } else {
        println!("(Add --serve to keep the tracking pages up.)");
    }
    server.abort();
    store.close().await;
    Ok(())
}
