//! Retention: whether customers come back, and whether the post-purchase experience —
//! late deliveries, exceptions, failed attempts, bad scores — costs a shop customers.
//!
//! - [`facts`]: what is kept per order and customer, incrementally ([`RetentionStore`],
//!   implemented by the SQL backends; [`MemoryRetention`] is the in-memory reference), and
//!   the [`recompute`] it must always equal;
//! - [`stats`]: Wilson and Newcombe intervals, medians;
//! - [`report`]: the [`RetentionReport`] (repeat rate, time to second order, churn against
//!   the shop's rhythm, cohort curves, breakdowns and comparisons), CSV and JSON;
//! - [`record`]: the [`RetentionRecorder`] that feeds the store from platform events and
//!   survey answers, and the backfill from an [`OrderSource`](crate::platform::OrderSource).

pub mod facts;
pub mod record;
pub mod report;
pub mod stats;

pub use facts::{CustomerFacts, MemoryRetention, OrderFact, RetentionStore, recompute};
pub use record::RetentionRecorder;
pub use report::{Figure, ReportFold, RetentionReport, RetentionSettings};
