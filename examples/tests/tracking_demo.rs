//! README's first command: the tracking-links demo runs to the end on embedded defaults and
//! tells the whole story.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn the_demo_tells_the_whole_story() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = Command::new(env!("CARGO_BIN_EXE_tracking-links"))
        .args(["--bind", "127.0.0.1:0", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains('\x1b'),
        "no escape codes when the output is not a terminal:\n{stdout}"
    );
    for expected in [
        "Good news, Emily! Your order #1001 has shipped with UPS",
        "أخبار سارّة يا",
        "#1003 numaralı siparişiniz",
        "quiet hours in America/New_York",
        "arrived out of order: a newer state is already known",
        "superseded: shipment",
        "10 messages sent (WhatsApp 10, SMS 0, email 0)",
        "Tracking page for order",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // The ledger subcommand explains an order by its number.
    let ledger = Command::new(env!("CARGO_BIN_EXE_tracking-links"))
        .args(["ledger", "--order", "#1001", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&ledger.stdout);
    assert!(ledger.status.success());
    assert!(
        text.contains("deferred") && text.contains("sent on whatsapp"),
        "{text}"
    );
    assert!(
        text.contains("totals: ") && text.contains(" sent"),
        "{text}"
    );
}

/// Runs the demo as `platform` on a fresh database; returns stdout and stderr, having
/// checked that it succeeded and that every webhook was accepted.
fn run_as(platform: &str) -> (String, String) {
    run_with(&["--platform", platform])
}

/// [`run_as`] with any arguments.
fn run_with(args: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = Command::new(env!("CARGO_BIN_EXE_tracking-links"))
        .args(args)
        .args(["--bind", "127.0.0.1:0", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    // Every webhook was accepted: signed in time, for this shop.
    assert!(
        !stdout.contains("HTTP [4") && !stdout.contains(", 4"),
        "{stdout}"
    );
    assert!(!stderr.contains("webhook rejected"), "{stderr}");
    (stdout, stderr)
}

// Messages name the order as the platform's own webhook does (the flows read what webhooks
// carried before asking the API): WooCommerce and Salla send the bare number, Magento its
// nine-digit increment id, BigCommerce only an id (the sandbox's ids are Shopify-sized).
fn assert_tells(stdout: &str, expected: &[&str]) {
    for e in expected {
        assert!(stdout.contains(e), "missing {e:?} in:\n{stdout}");
    }
}

/// The same story with the sandbox playing a WooCommerce store: WooCommerce-signed
/// `order.*` webhooks through the WooCommerce adapter; each order's "shipped" message is
/// sent once (WooCommerce reports no carrier events, so no later milestone is sent).
#[test]
fn the_demo_runs_as_a_woocommerce_store() {
    let (stdout, _) = run_as("woocommerce");
    assert_tells(
        &stdout,
        &[
            "sandbox shop on WooCommerce",
            "WooCommerce reports no carrier events",
            "Good news, Emily! Your order 1001 has shipped",
            "1003 numaralı siparişiniz",
            "3 messages sent (WhatsApp 3, SMS 0, email 0)",
        ],
    );
}

/// The same story as an Adobe Commerce (Magento) store: RSA-signed Adobe Commerce webhooks
/// (observer events) through the Magento adapter; each order's "shipped" message is sent
/// once, naming the carrier from the shipment track.
#[test]
fn the_demo_runs_as_a_magento_store() {
    let (stdout, _) = run_as("magento");
    assert_tells(
        &stdout,
        &[
            "sandbox shop on Adobe Commerce",
            "Adobe Commerce reports no carrier events",
            "Good news, Emily! Your order 000001001 has shipped with UPS",
            "000001003 numaralı siparişiniz",
            "3 messages sent (WhatsApp 3, SMS 0, email 0)",
        ],
    );
}

/// The same story as a BigCommerce store: thin Standard Webhooks callbacks, hydrated from
/// the store's API (served by the sandbox on the demo's address) through the BigCommerce
/// adapter; each order's "shipped" message is sent once, naming the carrier.
#[test]
fn the_demo_runs_as_a_bigcommerce_store() {
    let (stdout, _) = run_as("bigcommerce");
    assert_tells(
        &stdout,
        &[
            "sandbox shop on BigCommerce",
            "BigCommerce reports no carrier events",
            "Good news, Emily! Your order #5912340118000000001 has shipped with UPS",
            "#5912340118000000003 numaralı siparişiniz",
            "3 messages sent (WhatsApp 3, SMS 0, email 0)",
        ],
    );
}

/// A WooCommerce store with AfterShip as its tracking source: every shipment is registered
/// with the sandbox's AfterShip once, and AfterShip's signed webhooks tell the carrier's
/// steps, so the WooCommerce store gets the whole story (the same 10 messages as the Shopify
/// store), the carrier's words included; a milestone both report is one message.
#[test]
fn the_demo_runs_as_a_woocommerce_store_with_aftership() {
    let (stdout, _) = run_with(&[
        "--platform",
        "woocommerce",
        "--tracking-source",
        "aftership",
    ]);
    assert_tells(
        &stdout,
        &[
            "Tracking source: the sandbox plays aftership",
            "Your order 1001 is out for delivery",
            "Your order 1001 has been delivered",
            "Kargo firmasının notu: Delayed: severe weather in the area",
            "aftership tracked 3 shipment(s), registered once each",
            "(reported by aftership)",
            "10 messages sent (WhatsApp 10, SMS 0, email 0)",
        ],
    );
}

/// The same story as an ikas store: full orders in ikas's envelope, signed over the `data`
/// string, through the ikas adapter; each order's "shipped" message is sent once, in the
/// customer's language (Turkish for the tr-TR customer).
#[test]
fn the_demo_runs_as_an_ikas_store() {
    let (stdout, _) = run_as("ikas");
    assert_tells(
        &stdout,
        &[
            "sandbox shop on ikas",
            "ikas reports no carrier events",
            "Good news, Emily! Your order #1001 has shipped with UPS",
            "Müjde, Ayşe! #1003 numaralı siparişiniz Yurtiçi Kargo ile kargoya verildi",
            "3 messages sent (WhatsApp 3, SMS 0, email 0)",
        ],
    );
}

/// The same story as a Nuvemshop store: thin notifications signed with
/// `X-Linkedstore-HMAC-SHA256`, hydrated from the store's API (served by the sandbox on the
/// demo's address) through the Nuvemshop adapter; each order's "shipped" message once.
#[test]
fn the_demo_runs_as_a_nuvemshop_store() {
    let (stdout, _) = run_as("nuvemshop");
    assert_tells(
        &stdout,
        &[
            "sandbox shop on Nuvemshop",
            "Nuvemshop reports no carrier events",
            "Good news, Emily! Your order #1001 has shipped with UPS",
            "#1003 numaralı siparişiniz",
            "3 messages sent (WhatsApp 3, SMS 0, email 0)",
        ],
    );
}

/// The same story as a Salla store: signed `{event, merchant, data}` envelopes with full
/// orders and shipments through the Salla adapter; the Saudi customer's messages are in
/// Arabic, and Salla's shipment statuses (`delivering`, `delivered`) bring the later
/// milestones.
#[test]
fn the_demo_runs_as_a_salla_store() {
    let (stdout, _) = run_as("salla");
    assert_tells(
        &stdout,
        &[
            "sandbox shop on Salla",
            "تم شحن طلبك",
            "تم توصيل طلبك",
            "Good news, Emily! Your order 1001 has shipped",
        ],
    );
}

/// The same story as a Zid store: the order itself, authenticated by Basic credentials,
/// through the Zid adapter; order statuses (`indelivery`, `delivered`) are the milestones,
/// in Arabic for the Saudi customer.
#[test]
fn the_demo_runs_as_a_zid_store() {
    let (stdout, _) = run_as("zid");
    assert_tells(
        &stdout,
        &[
            "sandbox shop on Zid",
            "تم شحن طلبك",
            "تم توصيل طلبك",
            "6 messages sent (WhatsApp 6, SMS 0, email 0)",
        ],
    );
}
