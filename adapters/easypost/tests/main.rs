//! The EasyPost adapter's integration tests: one binary, one module per file.

mod client;
mod webhooks;
