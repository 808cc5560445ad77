//! Fairness across shops: a big shop's backlog (a backfill, a flash sale) enqueued first must
//! not make a small shop's message wait behind it. The `FairDispatcher` gives every shop
//! with due work one batch per round, so the small shop's message goes out in the first
//! round; the same outboxes drained first-come-first-served send it last, which the
//! control below shows, so the bound this test checks would catch a FCFS scheduler.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aftercare::channel::{MessageChannel, SendError};
use aftercare::clock::ManualClock;
use aftercare::dispatch::Dispatcher;
use aftercare::model::{ChannelKind, OutboundMessage, Purpose, Receipt, ShopId};
use aftercare::store::{NewOutboxMessage, Outbox as _};
use aftercare::tenancy::{
    FairDispatcher, Keyring, MemoryRegistry, ShopInstall, ShopScope, Tenancy,
};
use aftercare_sqlite::SqliteShops;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

/// One provider account shared by every shop: the global order of sends.
#[derive(Debug, Default)]
struct Provider {
    log: Mutex<Vec<String>>,
}

#[derive(Debug)]
struct Sender {
    provider: Arc<Provider>,
}

#[async_trait]
impl MessageChannel for Sender {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }
    async fn send(&self, _m: &OutboundMessage, key: &str) -> Result<Receipt, SendError> {
        let mut log = self.provider.log.lock().unwrap();
        log.push(key.to_owned());
        Ok(Receipt::new(format!("p-{}", log.len()), Utc::now()))
    }
}

const BACKLOG: usize = 3_000;
const QUANTUM: u32 = 16;

fn t0() -> DateTime<Utc> {
    "2026-03-02T10:00:00Z".parse().unwrap()
}

struct Setup {
    big: ShopScope,
    small: ShopScope,
    provider: Arc<Provider>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let tenancy = Tenancy::new(
        Arc::new(MemoryRegistry::default()),
        Arc::new(SqliteShops::new(dir.path()).unwrap()),
        Keyring::new("k1", &[5; 32]).unwrap(),
    );
    let mut scopes = Vec::new();
    for shop in ["big.myshopify.com", "small.myshopify.com"] {
        let i = tenancy
            .install(ShopInstall::new(ShopId::new(shop), "shopify"), t0())
            .await
            .unwrap();
        scopes.push(i.scope);
    }
    let small = scopes.pop().unwrap();
    let big = scopes.pop().unwrap();
    let message = |shop: &ShopScope, n: usize, due: DateTime<Utc>| {
        let mut m = OutboundMessage::new(
            ChannelKind::Email,
            format!("c{n}@example.com"),
            Purpose::Transactional,
            "Your parcel ships",
        );
        m.shop = Some(shop.shop().clone());
        NewOutboxMessage::new(format!("{}:{n}", shop.shop()), m, due, "test")
    };
    // The big shop's backlog arrives first, all due at once...
    for n in 0..BACKLOG {
        big.store()
            .enqueue(message(&big, n, t0()), t0())
            .await
            .unwrap();
    }
    // ...then one message of the small shop, due a second later.
    let later = t0() + Duration::seconds(1);
    small
        .store()
        .enqueue(message(&small, 0, later), later)
        .await
        .unwrap();
    Setup {
        big,
        small,
        provider: Arc::default(),
        clock: Arc::new(ManualClock::new(t0() + Duration::seconds(2))),
        _dir: dir,
    }
}

fn dispatcher(s: &Setup, shop: &ShopScope) -> Dispatcher {
    Dispatcher::new(shop.store(), s.clock.clone())
        .channel(Arc::new(Sender {
            provider: s.provider.clone(),
        }))
        .batch(QUANTUM, 4)
}

fn position_of(provider: &Provider, key: &str) -> Option<usize> {
    provider.log.lock().unwrap().iter().position(|k| k == key)
}

const SMALL_KEY: &str = "small.myshopify.com:0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_shop_is_served_in_the_first_round_while_a_big_backlog_drains() {
    let s = setup().await;
    let fair = FairDispatcher::new().parallel(1);
    fair.add(s.big.shop().clone(), dispatcher(&s, &s.big));
    fair.add(s.small.shop().clone(), dispatcher(&s, &s.small));
    let first = fair.round().await.unwrap();
    assert_eq!(first.turns, 2);
    assert_eq!(first.handled[s.small.shop()], 1);
    assert_eq!(first.handled[s.big.shop()], QUANTUM);
    let pos = position_of(&s.provider, SMALL_KEY).expect("sent in the first round");
    // At most one quantum of the big shop's went before it.
    assert!(pos <= QUANTUM as usize, "sent {}th", pos + 1);
    // The backlog still drains completely, a quantum per round.
    let mut rounds = 1;
    loop {
        let r = fair.round().await.unwrap();
        if r.total() == 0 {
            break;
        }
        assert!(r.total() <= QUANTUM);
        rounds += 1;
    }
    assert_eq!(s.provider.log.lock().unwrap().len(), BACKLOG + 1);
    assert_eq!(rounds, BACKLOG.div_ceil(QUANTUM as usize));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_first_come_first_served_sends_the_small_shop_last() {
    // The same outboxes, served in the order their work arrived (each shop's queue drained
    // before the next, as one global queue ordered by arrival would): the small shop's
    // message waits behind the whole backlog, far past the bound the fair test checks.
    let s = setup().await;
    dispatcher(&s, &s.big).drain().await.unwrap();
    dispatcher(&s, &s.small).drain().await.unwrap();
    let pos = position_of(&s.provider, SMALL_KEY).unwrap();
    assert_eq!(pos, BACKLOG);
    assert!(pos > QUANTUM as usize);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_shop_is_skipped_until_woken_and_a_removed_shop_gets_no_turn() {
    let s = setup().await;
    let fair = FairDispatcher::new().idle_poll(std::time::Duration::from_secs(3600));
    fair.add(s.small.shop().clone(), dispatcher(&s, &s.small));
    assert_eq!(fair.round().await.unwrap().total(), 1);
    // Nothing due: the next round finds it idle, and then leaves it alone.
    assert_eq!(fair.round().await.unwrap().turns, 1);
    assert_eq!(fair.round().await.unwrap().turns, 0);
    fair.wake(s.small.shop());
    assert_eq!(fair.round().await.unwrap().turns, 1);
    fair.add(s.big.shop().clone(), dispatcher(&s, &s.big));
    fair.remove(s.big.shop());
    assert_eq!(fair.round().await.unwrap().turns, 0);
    assert!(fair.shops().iter().all(|shop| shop != s.big.shop()));
}
