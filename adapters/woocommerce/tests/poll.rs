//! Catch-up polling: an order whose webhook never arrived is caught by the poller and sends
//! its tracking message once; one whose webhook did is not sent again; polling twice stores
//! nothing new. Real SQLite, the shop's API stand-in.

use aftercare::clock::Clock as _;
use aftercare::store::{Inbox, NewInboxEntry};
use aftercare::webhook::{WebhookRequest, WebhookSource};
use aftercare_woocommerce::{POLLER_NAME, SOURCE_NAME};

use crate::common::source;
use crate::common::world::{order_723_as, world};

#[tokio::test]
async fn a_missed_webhook_is_caught_once_and_a_delivered_one_is_not_repeated() {
    // 723 ships but its webhook never arrives; 724's webhook does.
    let missed = order_723_as(723, "trk-723", "AA123456789BR");
    let delivered = order_723_as(724, "trk-724", "AA987654321BR");
    let w = world(vec![missed, delivered.clone()]).await;

    // 724's webhook, verified and stored as the router stores it.
    let src = source();
    let body = serde_json::to_vec(&delivered).unwrap();
    let headers = src.sign_for_test("order.updated", &body);
    let v = src
        .verify(&WebhookRequest::new(&headers, &body, w.clock.now()))
        .unwrap();
    w.store
        .insert(NewInboxEntry::new(SOURCE_NAME, v, body, w.clock.now()))
        .await
        .unwrap();
    w.run().await;
    assert_eq!(w.sent(), [("724".to_owned(), "shipped".to_owned())]);

    let poller = w
        .shop
        .catch_up(w.store.clone(), w.clock.clone())
        .expect("on by default");
    assert_eq!(poller.name(), POLLER_NAME);
    let first = poller.poll_once().await.unwrap();
    assert_eq!(first.seen, 2);
    w.run().await;
    assert_eq!(
        w.sent(),
        [
            ("724".to_owned(), "shipped".to_owned()),
            ("723".to_owned(), "shipped".to_owned())
        ],
        "723 caught by the poller; 724 not sent again"
    );
    let text = &w.email.sent()[1].text;
    assert!(text.contains("AA123456789BR"), "{text}");

    // Polling again finds nothing new: nothing stored, nothing sent.
    let second = poller.poll_once().await.unwrap();
    assert_eq!((second.seen, second.stored), (2, 0), "{second:?}");
    w.run().await;
    assert_eq!(w.email.sent().len(), 2);
    // The poller asked from its cursor, less the overlap, by GMT modification time.
    let lists: Vec<_> = w
        .fake
        .seen()
        .into_iter()
        .filter(|s| s.path == "/wp-json/wc/v3/orders")
        .collect();
    assert_eq!(lists[0].query["modified_after"], "2017-03-20T19:59:59");
    assert_eq!(
        lists.last().unwrap().query["modified_after"],
        "2017-03-21T19:49:50"
    );
}

#[tokio::test]
async fn catch_up_can_only_be_turned_off_explicitly() {
    let w = world(vec![]).await;
    assert!(w.shop.catch_up(w.store.clone(), w.clock.clone()).is_some());
    let off = w.shop.clone().without_catch_up();
    assert!(off.catch_up(w.store.clone(), w.clock.clone()).is_none());
}
