//! Inbox bodies are stored LZ4-compressed when that pays, read back byte for byte, and still
//! found by customer redaction.

use aftercare::model::ShopId;
use aftercare::store::{CustomerRedaction, Inbox, InboxInsert, NewInboxEntry, Redactor};
use aftercare::webhook::VerifiedWebhook;
use aftercare_sqlite::SqliteStore;
use chrono::Utc;

/// A 6.5 KB Shopify `orders/fulfilled` body whose customer is jane.doe@example.com.
const BODY: &[u8] = include_bytes!("../../../sdk/benches/fixtures/shopify_order_fulfilled.json");

fn entry(key: &str, body: Vec<u8>) -> NewInboxEntry {
    let mut v = VerifiedWebhook::new(key);
    v.shop = Some("demo.myshopify.com".into());
    NewInboxEntry::new("shopify", v, body, Utc::now())
}

async fn stored(store: &SqliteStore, id: i64) -> (i64, String) {
    sqlx::query_as(
        "SELECT length(b.body), i.body_codec FROM inbox AS i JOIN inbox_bodies AS b ON b.id = i.id WHERE i.id = ?",
    )
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_large_body_is_stored_compressed_and_read_back_exactly() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let InboxInsert::Inserted(big) = store.insert(entry("big", BODY.to_vec())).await.unwrap()
    else {
        panic!("a new key is inserted")
    };
    let (len, codec) = stored(&store, big).await;
    assert_eq!(codec, "lz4");
    assert!(
        len < BODY.len() as i64 / 2,
        "{len} bytes stored for {}",
        BODY.len()
    );

    let small = br#"{"id":450789469}"#.to_vec();
    let small_id = store
        .insert(entry("small", small.clone()))
        .await
        .unwrap()
        .id();
    assert_eq!(
        stored(&store, small_id).await,
        (small.len() as i64, "identity".into())
    );

    // Read back through every path that returns bodies.
    assert_eq!(store.inbox_entry(big).await.unwrap().unwrap().body, BODY);
    let claimed = store
        .claim(Utc::now(), 10, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    let bodies: Vec<&[u8]> = claimed.iter().map(|e| e.body.as_slice()).collect();
    assert_eq!(bodies, vec![BODY, small.as_slice()]);
    store.dead_letter(big, "poisoned").await.unwrap();
    assert_eq!(store.dead_letters(10).await.unwrap()[0].body, BODY);

    // A duplicate of the compressed one is still recognised as such.
    assert_eq!(
        store.insert(entry("big", BODY.to_vec())).await.unwrap(),
        InboxInsert::Duplicate(big)
    );
}

#[tokio::test]
async fn redaction_finds_addresses_inside_compressed_and_plain_bodies() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let janes = store
        .insert(entry("jane", BODY.to_vec()))
        .await
        .unwrap()
        .id();
    let other_body = String::from_utf8(BODY.to_vec())
        .unwrap()
        .replace("jane.doe@example.com", "max.mustermann@example.com")
        .replace("+15550142", "+15550999")
        .replace("+1-555-0142", "+1-555-0999");
    let others = store
        .insert(entry("max", other_body.clone().into_bytes()))
        .await
        .unwrap()
        .id();
    // Found by phone number only, in a body stored as it is.
    let plain = store
        .insert(entry("plain", br#"{"phone":"+15550142"}"#.to_vec()))
        .await
        .unwrap()
        .id();
    assert_eq!(stored(&store, janes).await.1, "lz4");
    assert_eq!(stored(&store, others).await.1, "lz4");
    assert_eq!(stored(&store, plain).await.1, "identity");

    let report = store
        .redact_customer(&CustomerRedaction::new(
            Some(ShopId::new("demo.myshopify.com")),
            None,
            vec!["jane.doe@example.com".into(), " +15550142 ".into()],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(report.inbox_deleted, 2);
    assert!(store.inbox_entry(janes).await.unwrap().is_none());
    assert!(store.inbox_entry(plain).await.unwrap().is_none());
    assert_eq!(
        store.inbox_entry(others).await.unwrap().unwrap().body,
        other_body.as_bytes()
    );
}

#[tokio::test]
async fn a_damaged_stored_body_is_an_error_not_a_panic() {
    let store = SqliteStore::open_temporary().await.unwrap();
    let id = store
        .insert(entry("big", BODY.to_vec()))
        .await
        .unwrap()
        .id();
    // The LZ4 block cut in half, as a torn copy of the file might leave it.
    sqlx::query("UPDATE inbox_bodies SET body = substr(body, 1, length(body) / 2) WHERE id = ?")
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
    let e = store.inbox_entry(id).await.unwrap_err().to_string();
    assert!(e.contains("stored inbox body"), "{e}");
    let e = store
        .redact_customer(&CustomerRedaction::new(
            None,
            None,
            vec!["jane.doe@example.com".into()],
            vec![],
        ))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(&format!("inbox row {id} cannot be read")), "{e}");
}
