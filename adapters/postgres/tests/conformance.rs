//! The sdk's storage conformance suite, each check on a fresh database of a real
//! PostgreSQL server (see `support`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

aftercare::storage_conformance_tests!(async { support::fresh_store().await });

mod retention {
    use crate::support;

    aftercare::retention_conformance_tests!(async { support::fresh_store().await });

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retention_rows_are_redacted() {
        let store = support::fresh_store().await;
        aftercare::conformance::retention::retention_rows_are_redacted(std::sync::Arc::new(store))
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retention_rows_expire_with_the_period() {
        let store = support::fresh_store().await;
        aftercare::conformance::retention::retention_rows_expire_with_the_period(
            std::sync::Arc::new(store),
        )
        .await;
    }
}
