//! The sdk's storage conformance suite, each check on a fresh database of a real
//! PostgreSQL server (see `support`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

aftercare::storage_conformance_tests!(async { support::fresh_store().await });

mod retention {
    use crate::support;

    aftercare::retention_conformance_tests!(async { support::fresh_store().await });
}
