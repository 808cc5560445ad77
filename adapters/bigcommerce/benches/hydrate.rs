//! Placeholder, replaced by the hydration bench.
fn main() {}
