//! End-to-end tests live in `tests/`; this library holds the bounded fuzzer ([`fuzz`],
//! run by `cargo xtask fuzz`).

pub mod fuzz;
