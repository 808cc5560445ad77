//! Throughput of the dispatcher through a Twilio channel paced by a strict limit of N
//! messages per second, against a local mock of the Messages API. The goal is at least 95%
//! of N; the achieved rate is printed for each sample batch.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aftercare::clock::{Clock, SystemClock};
use aftercare::dispatch::Dispatcher;
use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
use aftercare::store::{NewOutboxMessage, Outbox};
use aftercare_sqlite::SqliteStore;
use aftercare_twilio::{Credentials, Sender, TwilioChannel, rate};
use criterion::{Criterion, criterion_group, criterion_main};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const RATE: f64 = 100.0;
const MESSAGES: u64 = 100;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (store, dispatcher, _server) = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(201)
                    .set_body_json(serde_json::json!({"sid": "SMbench", "status": "queued"})),
            )
            .mount(&server)
            .await;
        let store = Arc::new(SqliteStore::open_temporary().await.unwrap());
        let ch = TwilioChannel::sms(
            "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            Credentials::auth_token("AUTHTOKEN"),
            Sender::Number("+14155552345".into()),
        )
        .unwrap()
        .base_url(server.uri());
        let d = Dispatcher::new(store.clone(), Arc::new(SystemClock))
            .channel(Arc::new(ch))
            .rate_limit(ChannelKind::Sms, Arc::new(rate::per_second(RATE)))
            .batch(64, 16);
        (store, d, server)
    });
    let round = AtomicU64::new(0);
    let mut group = c.benchmark_group("twilio_dispatch");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(12));
    group.bench_function(format!("{MESSAGES}_messages_at_{RATE}_per_s"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let r = round.fetch_add(1, Ordering::Relaxed);
                rt.block_on(async {
                    let now = SystemClock.now();
                    for i in 0..MESSAGES {
                        let m = OutboundMessage::new(
                            ChannelKind::Sms,
                            format!("+1415555{i:04}"),
                            Purpose::Transactional,
                            "hi",
                        );
                        store
                            .enqueue(
                                NewOutboxMessage::new(format!("bench:{r}:{i}"), m, now, "bench"),
                                now,
                            )
                            .await
                            .unwrap();
                    }
                    let start = Instant::now();
                    let rep = dispatcher.drain().await.unwrap();
                    let took = start.elapsed();
                    assert_eq!(u64::from(rep.sent), MESSAGES);
                    let achieved = MESSAGES as f64 / took.as_secs_f64();
                    eprintln!(
                        "achieved {achieved:.1} msg/s of {RATE} ({:.1}%)",
                        100.0 * achieved / RATE
                    );
                    total += took;
                });
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
