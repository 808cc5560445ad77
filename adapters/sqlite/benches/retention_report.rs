//! The retention and satisfaction reports over a large SQLite store: 1,000,000 orders of
//! 200,000 customers over a year and 100,000 survey answers, generated directly in SQL
//! (the customer rows and interval histogram the incremental path keeps are built in bulk
//! with window functions, then checked against the incremental path on a sample), then
//! the reports timed, with peak memory. Also the incremental cost per recorded order.
//! Reported, not asserted.
//!
//! `cargo bench -p aftercare-sqlite --bench retention_report` (`AFTERCARE_BENCH_ORDERS`,
//! `AFTERCARE_BENCH_ANSWERS` change the defaults).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use aftercare::model::{OrderId, ShopId, SurveyKind};
use aftercare::report::{Fact, Report};
use aftercare::retention::{
    OrderFact, ReportFold, RetentionReport, RetentionSettings, RetentionStore, recompute,
};
use aftercare::store::SurveyStore;
use aftercare_sqlite::SqliteStore;
use chrono::{DateTime, Utc};

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time of the whole process (every thread: SQLite runs on sqlx's worker), ms; the
/// machine is shared, so wall time alone says more about the neighbours than the code.
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line: 12th and 13th after the command's
    // closing parenthesis. In clock ticks of 10 ms.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) * 10
}

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const BASE: &str = "2025-06-01T00:00:00Z";

#[tokio::main]
async fn main() {
    let orders = env("AFTERCARE_BENCH_ORDERS", 1_000_000);
    let answers = env("AFTERCARE_BENCH_ANSWERS", 100_000);
    let customers = (orders / 5).max(1);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("bench.db"))
        .await
        .unwrap();
    let pool = store.pool();
    let base: DateTime<Utc> = BASE.parse().unwrap();
    let base_us = base.timestamp_micros();
    let year_s = 365 * 86_400i64;

    let t = Instant::now();
    // Orders: customer and time from multiplicative hashes of the row number (deterministic);
    // a tenth late by 3+ days, a fifth by 1-2, the rest on time.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
         INSERT INTO retention_orders (shop, order_id, customer_id, created_at, experience)
         SELECT 'bench', 'o' || i, 'c' || ((i * 2654435761) % ?2),
                ?3 + ((i * 40503 + (i / 7) * 86400) % ?4) * 1000000,
                CASE WHEN i % 10 = 0 THEN '{\"lateness\":\"3+ days late\"}'
                     WHEN i % 10 < 3 THEN '{\"lateness\":\"1-2 days late\"}'
                     ELSE '{\"lateness\":\"on time\"}' END
         FROM n",
    )
    .bind(orders)
    .bind(customers)
    .bind(base_us)
    .bind(year_s)
    .execute(pool)
    .await
    .unwrap();
    // What the incremental path keeps, in bulk.
    sqlx::query(
        "INSERT INTO retention_customers
            (shop, customer_id, first_order_id, first_order_at, second_order_at, last_order_at, orders)
         SELECT shop, customer_id,
                max(CASE WHEN rn = 1 THEN order_id END), min(created_at),
                max(CASE WHEN rn = 2 THEN created_at END), max(created_at), count(*)
         FROM (SELECT shop, customer_id, order_id, created_at,
                      row_number() OVER (PARTITION BY shop, customer_id ORDER BY created_at, order_id) AS rn
               FROM retention_orders WHERE customer_id IS NOT NULL)
         GROUP BY shop, customer_id",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO retention_intervals (shop, days, count)
         SELECT shop, (created_at - prev) / 86400000000, count(*)
         FROM (SELECT shop, created_at,
                      lag(created_at) OVER (PARTITION BY shop, customer_id ORDER BY created_at, order_id) AS prev
               FROM retention_orders WHERE customer_id IS NOT NULL)
         WHERE prev IS NOT NULL GROUP BY shop, (created_at - prev) / 86400000000",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
         INSERT INTO responses (invitation_id, kind, order_id, customer_id, score, comment, via, answered_at)
         SELECT 'inv-' || i, 'nps', 'o' || (i * 10), NULL, (i * 7) % 11, NULL, 'web',
                ?2 + ((i * 40503) % ?3) * 1000000
         FROM n",
    )
    .bind(answers)
    .bind(base_us)
    .bind(year_s)
    .execute(pool)
    .await
    .unwrap();
    let generated = t.elapsed();
    let rss_before = rss_kib("VmRSS:");

    let shop = Some(ShopId::from("bench"));
    let as_of = base + chrono::Duration::days(400);
    // The report as the dashboard makes it: the histogram read, the customers counted in
    // SQL into the fold. Peak memory is taken right after it, before anything else runs.
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let settings = RetentionSettings::default();
    let (t, c) = (Instant::now(), cpu_ms());
    let report = RetentionReport::from_store(&store, shop.as_ref(), &settings, as_of)
        .await
        .unwrap();
    let counted = (t.elapsed(), cpu_ms() - c);
    let peak_counted = rss_kib("VmHWM:");
    // Again, with SQLite's page cache warm.
    let (t, c) = (Instant::now(), cpu_ms());
    let again = RetentionReport::from_store(&store, shop.as_ref(), &settings, as_of)
        .await
        .unwrap();
    let counted_warm = (t.elapsed(), cpu_ms() - c);
    assert_eq!(again, report);
    // The customers streamed one by one into the fold (what a store without its own
    // counting does, and the reference the SQL counts are checked against).
    let (t, c) = (Instant::now(), cpu_ms());
    let hist = store.interval_histogram(shop.as_ref()).await.unwrap();
    let mut fold = ReportFold::new(&hist, &settings, as_of);
    store
        .for_each_customer(shop.as_ref(), &mut |c| fold.add(&c))
        .await
        .unwrap();
    let streamed_report = fold.finish();
    let streamed = (t.elapsed(), cpu_ms() - c);
    assert_eq!(
        streamed_report, report,
        "counted in SQL and streamed reports agree"
    );
    let peak_streamed = rss_kib("VmHWM:");
    // The previous way, for comparison on the same machine and load: every customer read
    // at once, then the report built from the slice.
    let (t, c) = (Instant::now(), cpu_ms());
    let cs = store.retention_customers(shop.as_ref()).await.unwrap();
    let hist = store.interval_histogram(shop.as_ref()).await.unwrap();
    let all_at_once = RetentionReport::build(&cs, &hist, &settings, as_of);
    let all = (t.elapsed(), cpu_ms() - c);
    assert_eq!(
        all_at_once, report,
        "streamed and all-at-once reports agree"
    );
    let n_customers = cs.len();
    drop(cs);
    let peak_all = rss_kib("VmHWM:");
    let (t, c) = (Instant::now(), cpu_ms());
    let rs = store
        .responses_between(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC)
        .await
        .unwrap();
    let facts: Vec<Fact> = rs.into_iter().map(Fact::new).collect();
    let sat = Report::build(&facts, answers as u64);
    let satisfaction = (t.elapsed(), cpu_ms() - c);
    assert_eq!(sat.responses, answers as u64);
    assert_eq!(
        sat.nps_distribution.iter().sum::<u64>(),
        answers as u64,
        "every answer is an NPS answer"
    );
    let _ = SurveyKind::Nps;

    // The incremental path: record orders one by one into a fresh store, and check that
    // it equals a recomputation (and so the bulk rows above, built by the same rules).
    let small = SqliteStore::open(dir.path().join("incremental.db"))
        .await
        .unwrap();
    let sample: Vec<OrderFact> = (0..20_000i64)
        .map(|i| {
            OrderFact::new(
                shop.clone(),
                OrderId::from(format!("o{i}")),
                format!("c{}", (i * 2_654_435_761) % 4_000),
                base + chrono::Duration::seconds((i * 40_503 + (i / 7) * 86_400) % year_s),
            )
        })
        .collect();
    let t = Instant::now();
    for o in &sample {
        small.record_order(o).await.unwrap();
    }
    let per_order = t.elapsed() / sample.len() as u32;
    let (want_c, want_h) = recompute(&sample, &Default::default());
    assert_eq!(
        small.interval_histogram(shop.as_ref()).await.unwrap(),
        want_h
    );
    assert_eq!(
        small.retention_customers(shop.as_ref()).await.unwrap(),
        want_c
    );

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("retention report bench: {orders} orders, {n_customers} customers, {answers} answers");
    println!("  generated in SQL:              {generated:.2?}");
    let show = |name: &str, (wall, cpu): (std::time::Duration, u64), extra: String| {
        println!("  {name:<40} {wall:>9.2?} wall, {cpu:>5} ms CPU{extra}");
    };
    show(
        "retention report, SQL counts:",
        counted,
        format!(" (peak RSS {} MiB)", peak_counted / 1024),
    );
    show(
        "retention report, SQL counts, warm:",
        counted_warm,
        String::new(),
    );
    show(
        "retention report, streamed:",
        streamed,
        format!(" (peak RSS {} MiB)", peak_streamed / 1024),
    );
    show(
        "all customers at once (read + built):",
        all,
        format!(" (peak RSS {} MiB)", peak_all / 1024),
    );
    show(
        "satisfaction report (answers):",
        satisfaction,
        String::new(),
    );
    println!(
        "  repeat rate {}, cohorts {}, breakdown cells {}",
        report.repeat_rate.describe(),
        report.cohorts.len(),
        report.breakdowns.values().map(BTreeMap::len).sum::<usize>()
    );
    println!(
        "  memory: VmRSS before the reports {} MiB, peak (VmHWM) at the end {} MiB",
        rss_before / 1024,
        rss_kib("VmHWM:") / 1024
    );
    println!(
        "  incremental: {per_order:.2?} per recorded order (20,000 orders), equal to a recomputation"
    );
    println!(
        "  load average: {} before the reports, {} at the end",
        load_before.trim(),
        load.trim()
    );
}
