//! The sdk's storage conformance suite, run on SQLite files in temporary directories.
#![allow(clippy::expect_used)]

aftercare::storage_conformance_tests!(async {
    aftercare_sqlite::SqliteStore::open_temporary()
        .await
        .expect("a temporary SQLite database opens")
});

mod retention {
    aftercare::retention_conformance_tests!(async {
        aftercare_sqlite::SqliteStore::open_temporary()
            .await
            .expect("a temporary SQLite database opens")
    });

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retention_rows_are_redacted() {
        let store = aftercare_sqlite::SqliteStore::open_temporary()
            .await
            .expect("a temporary SQLite database opens");
        aftercare::conformance::retention::retention_rows_are_redacted(std::sync::Arc::new(store))
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retention_rows_expire_with_the_period() {
        let store = aftercare_sqlite::SqliteStore::open_temporary()
            .await
            .expect("a temporary SQLite database opens");
        aftercare::conformance::retention::retention_rows_expire_with_the_period(
            std::sync::Arc::new(store),
        )
        .await;
    }
}
