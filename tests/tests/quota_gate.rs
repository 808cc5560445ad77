//! `QuotaGate` against a simulated platform on tokio's paused clock: random sequences of
//! requests (acquire), answers delivered late and out of order (observe), `429`s
//! (throttled) and the passing of time never let more requests through than an answer
//! announced as remaining for its window, nor any during a `429`'s wait; and `acquire`
//! always returns.
//!
//! The platform: fixed windows of `window` from the start, `quota` requests each (as
//! BigCommerce's `X-Rate-Limit-Requests-Quota` / `-Left` / `-Time-Reset-Ms`); each answer
//! states what was left when the platform answered and the time to its window's reset, or is
//! a `429` asking to wait for the reset. Answers reach the gate whenever the sequence says.

use std::time::Duration;

use aftercare::platform::limits::{Quota, QuotaGate};
use proptest::prelude::*;
use tokio::time::Instant;

#[derive(Clone, Debug)]
enum Op {
    /// A request: `acquire`, then the platform answers (the answer is in flight).
    Send,
    /// The answer in flight at this index (modulo) reaches the gate; `no_reset`: the
    /// platform sent no reset header with it.
    Deliver { index: usize, no_reset: bool },
    /// Time passes (milliseconds).
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Send),
        3 => (any::<usize>(), prop::bool::weighted(0.15))
            .prop_map(|(index, no_reset)| Op::Deliver { index, no_reset }),
        2 => (0u64..3_000).prop_map(Op::Advance),
    ]
}

enum Answer {
    Left {
        left: u64,
        reset_after: Duration,
        window_end: Instant,
    },
    TooMany {
        wait: Duration,
    },
}

/// What happened, in order: `seq` orders events at the same instant.
#[derive(Default)]
struct Log {
    /// (seq, when) of every request let through.
    acquired: Vec<(usize, Instant)>,
    /// (seq, when observed, announced left, end of the window it was announced for).
    announced: Vec<(usize, Instant, u64, Instant)>,
    /// (seq, when, wait) of every `429` handed to the gate.
    throttled: Vec<(usize, Instant, Duration)>,
}

async fn run(quota: u64, window: Duration, reserve: u64, ops: Vec<Op>) -> Result<Log, String> {
    let gate = QuotaGate::new(reserve);
    let start = Instant::now();
    let mut used: Vec<u64> = Vec::new();
    let mut in_flight: Vec<Answer> = Vec::new();
    let mut log = Log::default();
    for (seq, op) in ops.into_iter().enumerate() {
        match op {
            Op::Send => {
                // Longer than any wait the platform can ask for: a gate that never lets a
                // request through again fails here.
                if tokio::time::timeout(window * 4 + Duration::from_secs(10), gate.acquire())
                    .await
                    .is_err()
                {
                    return Err(format!("acquire did not return (op {seq})"));
                }
                let now = Instant::now();
                log.acquired.push((seq, now));
                let k = (now.duration_since(start).as_nanos() / window.as_nanos()) as usize;
                let window_end = start + window * (k as u32 + 1);
                if used.len() <= k {
                    used.resize(k + 1, 0);
                }
                if used[k] < quota {
                    used[k] += 1;
                    in_flight.push(Answer::Left {
                        left: quota - used[k],
                        reset_after: window_end - now,
                        window_end,
                    });
                } else {
                    in_flight.push(Answer::TooMany {
                        wait: window_end - now,
                    });
                }
            }
            Op::Deliver { index, no_reset } => {
                if in_flight.is_empty() {
                    continue;
                }
                let answer = in_flight.remove(index % in_flight.len());
                let now = Instant::now();
                match answer {
                    Answer::Left {
                        left,
                        reset_after,
                        window_end,
                    } => {
                        let mut q = Quota::default();
                        q.limit = Some(quota);
                        q.remaining = Some(left);
                        q.reset_after = (!no_reset).then_some(reset_after);
                        gate.observe(&q);
                        // Without its reset time an answer does not say until when its
                        // figure holds: it only has to keep the gate live.
                        if !no_reset {
                            log.announced.push((seq, now, left, window_end));
                        }
                    }
                    Answer::TooMany { wait } => {
                        gate.throttled(wait);
                        log.throttled.push((seq, now, wait));
                    }
                }
            }
            Op::Advance(ms) => tokio::time::advance(Duration::from_millis(ms)).await,
        }
    }
    Ok(log)
}

fn check(log: &Log, reserve: u64) -> Result<(), String> {
    for &(seq, at, left, end) in &log.announced {
        let through = log
            .acquired
            .iter()
            .filter(|(s, t)| *s > seq && *t < end)
            .count() as u64;
        let allowed = left.saturating_sub(reserve);
        if through > allowed {
            return Err(format!(
                "{through} requests let through after an answer (op {seq}, at {:?}) announced {left} left (reserve {reserve}) until its window's reset {:?} later",
                at,
                end.saturating_duration_since(at)
            ));
        }
    }
    for &(seq, at, wait) in &log.throttled {
        if let Some((s, t)) = log
            .acquired
            .iter()
            .find(|(s, t)| *s > seq && *t < at + wait)
        {
            return Err(format!(
                "a request (op {s}) went {:?} after a 429 (op {seq}) that asked to wait {wait:?}",
                t.duration_since(at)
            ));
        }
    }
    Ok(())
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_gate_never_lets_through_more_than_announced(
        quota in 1u64..6,
        window_ms in 500u64..10_000,
        reserve in 0u64..2,
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let window = Duration::from_millis(window_ms);
        let log = paused_runtime().block_on(run(quota, window, reserve, ops));
        let log = log.map_err(TestCaseError::fail)?;
        check(&log, reserve).map_err(TestCaseError::fail)?;
    }
}

fn replay(quota: u64, window_ms: u64, reserve: u64, ops: Vec<Op>) {
    let log = paused_runtime()
        .block_on(run(quota, Duration::from_millis(window_ms), reserve, ops))
        .unwrap();
    check(&log, reserve).unwrap();
}

// The three cases the property found in the gate as first written, in the order it found
// them (each fails on that code).

/// An answer of 0 left without a reset time: the gate waited for a reset nobody had
/// announced, a second at a time, forever.
#[test]
fn nothing_left_without_a_reset_time_does_not_block_forever() {
    let ops = vec![
        Op::Send,
        Op::Deliver {
            index: 0,
            no_reset: true,
        },
        Op::Send,
    ];
    replay(1, 500, 0, ops);
}

/// A `429` of an earlier window delivered late set the reset earlier than the one the
/// current window's answer had announced, and the gate let a request through before it.
#[test]
fn a_late_429_of_an_earlier_window_does_not_end_the_current_one() {
    let ops = vec![
        Op::Send,          // window 0: 0 left
        Op::Advance(8),    //
        Op::Send,          // window 0: 429, wait 492 ms
        Op::Advance(1492), // window 3
        Op::Send,          // window 3: 0 left until 500 ms later
        Op::Deliver {
            index: 2,
            no_reset: false,
        }, // window 3's answer first
        Op::Deliver {
            index: 1,
            no_reset: false,
        }, // then the old 429: its wait ends 8 ms before window 3 does
        Op::Send,
    ];
    replay(1, 500, 0, ops);
}

/// An answer sent early in a window and delivered more than 250 ms after a later one
/// looked, by its later reset time, like a new window, and its larger figure replaced the
/// gate's count.
#[test]
fn a_stale_answer_delivered_late_does_not_reopen_the_window() {
    let ops = vec![
        Op::Send, // answer A: 2 left
        Op::Send, // answer B: 1 left
        Op::Deliver {
            index: 1,
            no_reset: false,
        }, // B first: 1 left
        Op::Advance(1_000),
        Op::Deliver {
            index: 0,
            no_reset: false,
        }, // A, a second late: "2 left"
        Op::Send,
        Op::Send,
    ];
    replay(3, 10_000, 0, ops);
}
