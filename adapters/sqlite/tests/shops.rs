//! The shop registry's health counts: deltas added atomically (two handles on one file, as
//! two processes of one host would hold), read back whole, another shop's kept apart, and
//! forgotten on request.

use aftercare::model::ShopId;
use aftercare::tenancy::{HealthDelta, ShopCounters, ShopRegistry as _};
use aftercare_sqlite::SqliteRegistry;

fn delta(failures: u32, errors: u32, token: Option<bool>) -> HealthDelta {
    let c = ShopCounters::default();
    c.webhook_failed(failures);
    for _ in 0..errors {
        c.provider_error();
    }
    if let Some(rejected) = token {
        c.token(!rejected);
    }
    c.take()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_counts_add_up_across_handles() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    let one = SqliteRegistry::open(&path).await.unwrap();
    let two = SqliteRegistry::open(&path).await.unwrap();
    let a = ShopId::new("a.myshopify.com");
    let b = ShopId::new("b.myshopify.com");
    one.add_health(&a, &delta(2, 1, None)).await.unwrap();
    two.add_health(&a, &delta(3, 0, Some(true))).await.unwrap();
    let h = one.health(&a).await.unwrap();
    assert_eq!(
        (h.webhook_failures, h.provider_errors, h.token_rejected),
        (5, 1, true)
    );
    assert_eq!(two.health(&b).await.unwrap(), Default::default());
    let mut tasks = Vec::new();
    for i in 0..20 {
        let r = if i % 2 == 0 { one.clone() } else { two.clone() };
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            r.add_health(&a, &delta(1, 1, None)).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let h = two.health(&a).await.unwrap();
    // No token news in those deltas: the refusal stands.
    assert_eq!(
        (h.webhook_failures, h.provider_errors, h.token_rejected),
        (25, 21, true)
    );
    one.add_health(&a, &delta(0, 0, Some(false))).await.unwrap();
    assert!(!two.health(&a).await.unwrap().token_rejected);
    two.clear_health(&a).await.unwrap();
    assert_eq!(one.health(&a).await.unwrap(), Default::default());
}

/// Settings saves are compare-and-swap on the record's revision: of two handles saving
/// over the same revision, one wins and the other is told the record changed (before, the
/// second save silently overwrote the first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_over_a_stale_revision_writes_nothing() {
    use aftercare::tenancy::ShopRecord;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    let one = SqliteRegistry::open(&path).await.unwrap();
    let two = SqliteRegistry::open(&path).await.unwrap();
    let shop = ShopId::new("a.myshopify.com");
    let mut r = ShopRecord::new(shop.clone(), "shopify", chrono::Utc::now());
    r.revision = 4;
    one.put(&r).await.unwrap();
    let mut mine = r.clone();
    mine.settings = serde_json::json!({"shop_name": "one"});
    mine.revision = 5;
    let mut theirs = r.clone();
    theirs.settings = serde_json::json!({"shop_name": "two"});
    theirs.revision = 5;
    assert!(one.put_if_revision(&mine, 4).await.unwrap());
    assert!(!two.put_if_revision(&theirs, 4).await.unwrap());
    let stored = two.get(&shop).await.unwrap().unwrap();
    assert_eq!(stored.settings["shop_name"], "one");
    assert_eq!(stored.revision, 5);
    // A shop with no record: nothing written.
    let mut other = r.clone();
    other.shop = ShopId::new("b.myshopify.com");
    assert!(!one.put_if_revision(&other, 4).await.unwrap());
    assert!(one.get(&other.shop).await.unwrap().is_none());
}
