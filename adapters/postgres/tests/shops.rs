//! Many shops on one database: a schema per shop on one shared pool (`PostgresShops`), the
//! shared registry, and `aftercare::tenancy` on top. Every test tries to cross shops.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use aftercare::model::{ChannelKind, OrderId, OutboundMessage, Purpose, ShopId};
use aftercare::store::{Inbox as _, NewInboxEntry, NewOutboxMessage, Outbox as _, OutboxStatus};
use aftercare::tenancy::{
    ACCESS_TOKEN, Keyring, ShopInstall, ShopRegistry as _, ShopStatus, Tenancy, WEBHOOK_SECRET,
};
use aftercare::webhook::{Secret, VerifiedWebhook};
use aftercare_postgres::{PostgresShops, ShopSchemaStore};
use chrono::{TimeZone as _, Utc};
use sqlx::postgres::PgPoolOptions;

use crate::support;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

async fn shops(max_connections: u32) -> PostgresShops {
    let opts = support::fresh_database().await;
    PostgresShops::connect(
        PgPoolOptions::new().max_connections(max_connections),
        opts,
        "aftercare",
    )
    .await
    .expect("the registry is prepared")
}

fn webhook(shop: &str, key: &str) -> NewInboxEntry {
    let mut v = VerifiedWebhook::new(key);
    v.topic = Some("orders/paid".into());
    v.shop = Some(shop.into());
    NewInboxEntry::new(
        "shopify",
        v,
        format!(r#"{{"id":"{key}"}}"#).into_bytes(),
        t0(),
    )
}

fn message(shop: &str, n: usize) -> NewOutboxMessage {
    let mut m = OutboundMessage::new(
        ChannelKind::Sms,
        "+15550001111",
        Purpose::Transactional,
        "hi",
    );
    m.order_id = Some(OrderId::new(format!("{shop}-{n}")));
    m.shop = Some(ShopId::new(shop));
    NewOutboxMessage::new(format!("{shop}:{n}"), m, t0(), "test")
}

/// A shop's store on a shared pool where another shop already has work of every kind, so a
/// leak across schemas shows in the suite's counts and claims.
async fn shop_store_next_to_another() -> ShopSchemaStore {
    let shops = shops(4).await;
    let other = shops
        .open_shop(&ShopId::new("other.myshopify.com"))
        .await
        .unwrap();
    for n in 0..5 {
        other
            .insert(webhook("other.myshopify.com", &format!("o{n}")))
            .await
            .unwrap();
        other.enqueue(message("other", n), t0()).await.unwrap();
    }
    shops
        .open_shop(&ShopId::new("demo.myshopify.com"))
        .await
        .unwrap()
}

/// The sdk's whole storage suite, run on one shop's schema through the shared pool.
mod conformance_in_a_shop_schema {
    aftercare::storage_conformance_tests!(async { super::shop_store_next_to_another().await });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shops_on_two_connections_never_see_each_others_rows() {
    // Two connections for two busy shops: every connection serves both shops in turn.
    let shops = shops(2).await;
    let a = shops.open_shop(&ShopId::new("a")).await.unwrap();
    let b = shops.open_shop(&ShopId::new("b")).await.unwrap();
    assert_ne!(a.schema(), b.schema());
    let mut tasks = Vec::new();
    for n in 0..60 {
        let (a, b) = (a.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            a.insert(webhook("a", &format!("a{n}"))).await.unwrap();
            a.enqueue(message("a", n), t0()).await.unwrap();
            b.insert(webhook("b", &format!("b{n}"))).await.unwrap();
            b.enqueue(message("b", n), t0()).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for (store, shop) in [(&a, "a"), (&b, "b")] {
        let claimed = store
            .claim(t0(), 500, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 60, "{shop}");
        assert!(claimed.iter().all(|e| e.shop.as_deref() == Some(shop)));
        let due = store
            .claim_due(t0(), 500, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(due.len(), 60, "{shop}");
        assert!(
            due.iter()
                .all(|c| c.entry.key.starts_with(&format!("{shop}:")))
        );
        // The other shop's key is not found here.
        let other = if shop == "a" { "b:0" } else { "a:0" };
        assert!(store.outbox_by_key(other).await.unwrap().is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_outside_any_shop_finds_no_tables() {
    let shops = shops(2).await;
    let a = shops.open_shop(&ShopId::new("a")).await.unwrap();
    a.enqueue(message("a", 1), t0()).await.unwrap();
    // The shared pool outside a shop's call: the empty schema, so an error, never a row.
    let e = sqlx::query("SELECT count(*) FROM outbox")
        .fetch_one(shops.pool())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    // Qualified, the row is there.
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}.outbox", a.schema()))
        .fetch_one(shops.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenancy_on_postgres_seals_secrets_erases_and_rotates() {
    use base64::Engine as _;
    let b64 = |k: &[u8; 32]| base64::engine::general_purpose::STANDARD.encode(k);
    let shops = shops(4).await;
    let old = Keyring::parse(&format!("k1:{}", b64(&[1; 32]))).unwrap();
    let tenancy = Tenancy::new(Arc::new(shops.registry()), Arc::new(shops.clone()), old);
    let a = ShopId::new("a.myshopify.com");
    let b = ShopId::new("b.myshopify.com");
    for (shop, token) in [(&a, "shpat_AAAA_token"), (&b, "shpat_BBBB_token")] {
        let installed = tenancy
            .install(
                ShopInstall::new(shop.clone(), "shopify")
                    .secret(ACCESS_TOKEN, Secret::from(token))
                    .secret(WEBHOOK_SECRET, Secret::from("whsec_per_shop_secret")),
                t0(),
            )
            .await
            .unwrap();
        assert_eq!(
            installed.scope.secret(ACCESS_TOKEN).unwrap().expose(),
            token.as_bytes()
        );
        installed
            .scope
            .store()
            .enqueue(message(shop.as_str(), 1), t0())
            .await
            .unwrap();
    }
    // A dump of the database (every row of every table as text) holds no secret.
    let dump: Vec<String> = sqlx::query_scalar::<_, Option<String>>(
        "SELECT record::text FROM aftercare.shops UNION ALL
         SELECT string_agg(t::text, ',') FROM aftercare.shop_schemas t",
    )
    .fetch_all(shops.pool())
    .await
    .unwrap()
    .into_iter()
    .flatten()
    .collect();
    let dump = dump.join("\n");
    assert!(dump.contains("a.myshopify.com"));
    let sa = tenancy.scope(&a).await.unwrap();
    let dash = String::from_utf8(sa.dashboard_key().expose().to_vec()).unwrap();
    for secret in [
        "shpat_AAAA",
        "shpat_BBBB",
        "whsec_per_shop_secret",
        dash.as_str(),
    ] {
        assert!(!dump.contains(secret), "{secret} in the dump");
    }

    // Rotation: a new primary key, every secret re-sealed, the old key dropped.
    let ring = Keyring::parse(&format!("k2:{},k1:{}", b64(&[2; 32]), b64(&[1; 32]))).unwrap();
    let rotating = Tenancy::new(Arc::new(shops.registry()), Arc::new(shops.clone()), ring);
    assert_eq!(
        rotating.rotate_keys().await.unwrap(),
        8,
        "4 secrets x 2 shops"
    );
    assert_eq!(rotating.rotate_keys().await.unwrap(), 0);
    let only_new = Keyring::parse(&format!("k2:{}", b64(&[2; 32]))).unwrap();
    let after = Tenancy::new(
        Arc::new(shops.registry()),
        Arc::new(shops.clone()),
        only_new,
    );
    let sa2 = after.scope(&a).await.unwrap();
    assert_eq!(
        sa2.secret(ACCESS_TOKEN).unwrap().expose(),
        b"shpat_AAAA_token"
    );
    assert_eq!(sa2.dashboard_key(), sa.dashboard_key());
    // The old key alone no longer opens anything.
    let stale = Tenancy::new(
        Arc::new(shops.registry()),
        Arc::new(shops.clone()),
        Keyring::parse(&format!("k1:{}", b64(&[1; 32]))).unwrap(),
    );
    assert!(stale.scope(&a).await.is_err());

    // Uninstall: no scope any more; erasure waits for its time, then drops the schema.
    let schema_a = shops.schema_of(&a).await.unwrap().unwrap();
    assert!(after.uninstall(&a, t0()).await.unwrap());
    assert!(after.scope(&a).await.is_err());
    assert!(
        after
            .erase_due(t0() + chrono::Duration::hours(47))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        after
            .erase_due(t0() + chrono::Duration::hours(48))
            .await
            .unwrap(),
        vec![a.clone()]
    );
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
    )
    .bind(&schema_a)
    .fetch_one(shops.pool())
    .await
    .unwrap();
    assert_eq!(left, 0);
    let record = shops.registry().get(&a).await.unwrap().unwrap();
    assert_eq!(record.status, ShopStatus::Erased);
    assert!(record.secrets.is_empty());
    // Shop b is untouched.
    let sb = after.scope(&b).await.unwrap();
    assert_eq!(
        sb.store()
            .outbox_in(OutboxStatus::Pending, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Two instances of a deployment on one database: what each counts for a shop (webhook
/// failures, provider errors, a refused token) is added up in the registry, so either
/// instance reads the deployment's figures; concurrent flushes all land; another shop's
/// counts stay its own; erasure forgets them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_counts_are_the_deployments_on_every_instance() {
    use aftercare::tenancy::ShopCounters;
    let opts = support::fresh_database().await;
    let connect = || async {
        PostgresShops::connect(
            PgPoolOptions::new().max_connections(4),
            opts.clone(),
            "aftercare",
        )
        .await
        .unwrap()
    };
    let keys = || Keyring::new("k1", &[3u8; 32]).unwrap();
    let (one, two) = (connect().await, connect().await);
    let first = Arc::new(Tenancy::new(
        Arc::new(one.registry()),
        Arc::new(one.clone()),
        keys(),
    ));
    let second = Arc::new(Tenancy::new(
        Arc::new(two.registry()),
        Arc::new(two.clone()),
        keys(),
    ));
    let a = ShopId::new("a.myshopify.com");
    let b = ShopId::new("b.myshopify.com");
    for shop in [&a, &b] {
        first
            .install(ShopInstall::new(shop.clone(), "shopify"), t0())
            .await
            .unwrap();
    }
    let (c1, c2) = (ShopCounters::default(), ShopCounters::default());
    c1.webhook_failed(2);
    c1.provider_error();
    c2.webhook_failed(3);
    c2.token(false);
    first.flush_health(&a, &c1).await.unwrap();
    second.flush_health(&a, &c2).await.unwrap();
    for t in [&first, &second] {
        let h = t.health_counts(&a).await.unwrap();
        assert_eq!(
            (h.webhook_failures, h.provider_errors, h.token_rejected),
            (5, 1, true)
        );
        assert_eq!(t.health_counts(&b).await.unwrap(), Default::default());
    }
    // Many flushes at once from both instances: every one is counted.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let t = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            let c = ShopCounters::default();
            c.webhook_failed(1);
            c.provider_error();
            t.flush_health(&a, &c).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let h = second.health_counts(&a).await.unwrap();
    assert_eq!((h.webhook_failures, h.provider_errors), (45, 41));
    // The token was accepted again on the first instance: both see it.
    c1.token(true);
    first.flush_health(&a, &c1).await.unwrap();
    assert!(!second.health_counts(&a).await.unwrap().token_rejected);
    // Nothing counted: nothing written, nothing changed.
    first.flush_health(&a, &c1).await.unwrap();
    assert_eq!(second.health_counts(&a).await.unwrap().webhook_failures, 45);
    // Erasure forgets the counts (a re-install starts from zero).
    first.uninstall(&a, t0()).await.unwrap();
    assert!(second.erase(&a).await.unwrap());
    assert_eq!(first.health_counts(&a).await.unwrap(), Default::default());
}

/// Settings saves are compare-and-swap on the record's revision: of two instances saving
/// over the same revision at once, exactly one wins and the other writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_over_a_stale_revision_writes_nothing() {
    use aftercare::tenancy::ShopRecord;
    let opts = support::fresh_database().await;
    let connect = || async {
        PostgresShops::connect(
            PgPoolOptions::new().max_connections(2),
            opts.clone(),
            "aftercare",
        )
        .await
        .unwrap()
        .registry()
    };
    let (one, two) = (connect().await, connect().await);
    let shop = ShopId::new("a.myshopify.com");
    let mut r = ShopRecord::new(shop.clone(), "shopify", t0());
    r.revision = 4;
    one.put(&r).await.unwrap();
    let save = |reg: aftercare_postgres::PostgresRegistry, name: &'static str| {
        let mut next = r.clone();
        next.settings = serde_json::json!({ "shop_name": name });
        next.revision = 5;
        tokio::spawn(async move { reg.put_if_revision(&next, 4).await.unwrap() })
    };
    let (a, b) = (save(one.clone(), "one"), save(two.clone(), "two"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(a ^ b, "exactly one save wins: {a} {b}");
    let stored = two.get(&shop).await.unwrap().unwrap();
    assert_eq!(stored.revision, 5);
    assert_eq!(stored.settings["shop_name"], if a { "one" } else { "two" });
    // Over the stale revision again: nothing.
    assert!(!one.put_if_revision(&r, 4).await.unwrap());
}
