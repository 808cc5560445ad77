//! `tracking-links --check-config`: a good file passes; a file with mistakes gets every one
//! reported with its line and column, and a non-zero exit code. Also: the checked-in JSON
//! Schema matches the types.
//!
//! One file past 800 lines: every configuration mistake is one case of the same check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_tracking-links");

fn check(text: &str, envs: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.toml");
    std::fs::write(&file, text).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.arg("--check-config").arg(&file);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The variables the example file names.
const EXAMPLE_ENV: &[(&str, &str)] = &[
    ("SHOPIFY_ACCESS_TOKEN", "shpat_x"),
    ("SHOPIFY_CLIENT_SECRET", "shpss_x"),
    ("AFTERCARE_LINK_KEY", "k"),
    ("TWILIO_AUTH_TOKEN", "t"),
    ("AFTERCARE_DASHBOARD_KEY", "d"),
    ("SMTP_PASSWORD", "p"),
];

#[test]
fn the_example_file_passes() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tracking-links.example.toml"),
    )
    .unwrap();
    let o = check(&text, EXAMPLE_ENV);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(": ok"));
}

#[test]
fn a_missing_variable_is_named() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tracking-links.example.toml"),
    )
    .unwrap();
    let o = check(&text, &EXAMPLE_ENV[..5]);
    assert!(!o.status.success());
    let e = stderr(&o);
    // The place of the value that names the variable.
    let line = text
        .lines()
        .position(|l| l.starts_with("password = { env = \"SMTP_PASSWORD\" }"))
        .unwrap()
        + 1;
    assert!(
        e.contains(&format!(
            ":{line}:12: smtp.password: the environment variable `SMTP_PASSWORD` is not set"
        )),
        "{e}"
    );
    assert!(e.contains("1 problem"), "{e}");
}

#[test]
fn shape_mistakes_are_each_reported_with_their_place() {
    let text = r#"[shopify]
shop = "myshop.com"
access_token = { env = "AFTERCARE_TEST_UNSET_VARIABLE" }
client_secrets = [{ value = "s" }]
tracking_link_key = { value = "k" }
colour = "blue"

[storage]
sqlite = { path = 5 }

[server]
public_url = "ftp://shop.example"

[twilio]
account_sid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
auth_token = { value = "x" }
from = "+14155550100"
channels = ["sms", "pigeon"]

[smtp]
host = "smtp.example"
port = "587"
tls = "starttls"
from = "orders@shop.example"

[tracking]
quiet_hours = { start = "9pm", end = "08:00" }
"#;
    let o = check(text, &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    for expected in [
        ":2:8: shopify.shop: `myshop.com` is not a shop domain",
        ":3:16: shopify.access_token: the environment variable `AFTERCARE_TEST_UNSET_VARIABLE` is not set",
        ":6:1: shopify.colour: unknown field `colour`",
        ":9:19: storage.sqlite.path: `5` is an integer: put it in quotes",
        ":12:14: server.public_url: `ftp://shop.example` must be an http(s) URL",
        ":18:20: twilio.channels[1]: expected `email` or `sms` or `whatsapp` or `webhook`, found `pigeon`",
        ":22:8: smtp.port: `\"587\"` is a string: remove the quotes (expected an integer, `587`)",
        ":27:25: tracking.quiet_hours.start: `9pm` is not a time; write it `HH:MM`",
        "8 problems",
    ] {
        assert!(e.contains(expected), "missing {expected:?} in:\n{e}");
    }
}

#[test]
fn meaning_mistakes_are_each_reported_with_their_place() {
    let text = r#"[shopify]
shop = "shop.myshopify.com"
api_version = "2026-7"
access_token = { value = "a" }
client_secrets = []
tracking_link_key = { value = "k" }

[server]
bind = "localhost"
public_url = "https://shop.example/aftercare"

[twilio]
account_sid = "AC123"
auth_token = { value = "x" }
from = "415-555-0100"

[smtp]
host = "smtp.example"
port = 465
tls = "implicit"
from = "orders.shop.example"
username = "orders"

[tracking]
channels = ["whatsapp", "sms", "email"]
quiet_hours = { start = "21:00", end = "8", time_zone = "Mars/Olympus" }

[[content]]
match = { sku = "X1" }
title = "Guide"
url = "guide.html"

[rate_limits]
sms_per_second = 0.0
"#;
    let o = check(text, &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    for expected in [
        ":3:15: shopify.api_version: `2026-7` is not an API version",
        ":5:18: shopify.client_secrets: at least one client secret is needed",
        ":9:8: server.bind: `localhost` is not an address to listen on",
        ":13:15: twilio.account_sid: `AC123` is not an Account SID",
        ":15:8: twilio.from: `415-555-0100` is not a phone number in E.164 form",
        ":21:8: smtp.from: `orders.shop.example` is not an email address",
        ":17:1: smtp.password: a user name needs a password",
        ":25:13: tracking.channels[0]: whatsapp is in the preference order but not configured",
        ":26:40: tracking.quiet_hours.end: `8` is not a time",
        ":26:57: tracking.quiet_hours.time_zone: `Mars/Olympus` is not an IANA time zone",
        ":31:7: content[0].url: `guide.html` is not a URL",
        ":34:18: rate_limits.sms_per_second: 0 is not a positive rate",
        "12 problems",
    ] {
        assert!(e.contains(expected), "missing {expected:?} in:\n{e}");
    }
    // SMS and email are configured: no complaint about them.
    assert!(!e.contains("tracking.channels[1]"), "{e}");
    assert!(!e.contains("tracking.channels[2]"), "{e}");
}

#[test]
fn server_limits_must_be_at_least_one() {
    let text = r#"[shopify]
shop = "shop.myshopify.com"
access_token = { value = "a" }
client_secrets = [{ value = "s" }]
tracking_link_key = { value = "k" }

[server]
public_url = "https://shop.example/aftercare"
header_read_timeout_secs = 0
idle_timeout_secs = 3
max_connections = 0
shutdown_grace_secs = 0
"#;
    let o = check(text, &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    for expected in [
        ":9:28: server.header_read_timeout_secs: 0 is out of range (1 to ∞)",
        ":11:19: server.max_connections: 0 is out of range (1 to ∞)",
    ] {
        assert!(e.contains(expected), "missing {expected:?} in:\n{e}");
    }
    // No grace period is allowed (stop at once), and the other settings are fine.
    assert_eq!(e.matches(": server.").count(), 2, "{e}");
}

#[test]
fn a_syntax_error_has_its_line_and_column() {
    let o = check("[shopify]\nshop = \"a.myshopify.com\nx = 1\n", &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains(":2:"), "{e}");
    assert!(e.contains("TOML syntax error"), "{e}");
}

#[test]
fn check_config_subcommand_does_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.toml");
    std::fs::write(&file, "[shopify]\n").unwrap();
    let o = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("1:1: shopify: missing field `shop`"), "{e}");
    assert!(e.contains("missing field `server`"), "{e}");
}

#[test]
fn the_checked_in_schema_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/tracking-links-config.json");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        on_disk,
        aftercare_examples::config::schema_text(),
        "schemas/tracking-links-config.json is stale; run `cargo run -p aftercare-examples --bin tracking-links -- schema > schemas/tracking-links-config.json`"
    );
    // And the binary prints the same.
    let o = Command::new(BIN).arg("schema").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), on_disk);
}

#[test]
fn a_secret_written_as_a_string_is_not_echoed() {
    let text = r#"[shopify]
shop = "shop.myshopify.com"
access_token = "shpat_0123456789abcdef"
client_secrets = ["shpss_topsecret"]
tracking_link_key = { value = "k" }

[server]
public_url = "https://shop.example"
"#;
    let o = check(text, &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains(":3:16: shopify.access_token: a secret is not written in the file as a string"),
        "{e}"
    );
    assert!(
        e.contains(":4:19: shopify.client_secrets[0]: a secret is not written"),
        "{e}"
    );
    assert!(!e.contains("shpat_0123456789abcdef"), "{e}");
    assert!(!e.contains("shpss_topsecret"), "{e}");
}

/// A good base for the survey checks: Shopify, the server and SMS through Twilio.
const BASE: &str = r#"[shopify]
shop = "shop.myshopify.com"
access_token = { value = "a" }
client_secrets = [{ value = "s" }]
tracking_link_key = { value = "k" }

[server]
public_url = "https://shop.example/aftercare"

[twilio]
account_sid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
auth_token = { value = "x" }
from = "+14155550100"

[tracking]
channels = ["sms"]
"#;

#[test]
fn survey_sections_pass_when_right() {
    let text = format!(
        r#"{BASE}
[survey]
kind = "csat"
days_after_delivery = 0
channels = ["sms"]

[follow_up]
helpdesk_webhook_url = "https://helpdesk.example/hook"
helpdesk_webhook_secret = {{ value = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }}
detractor_tag = "unhappy"

[dashboard]
key = {{ value = "dash" }}
"#
    );
    let o = check(&text, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn survey_mistakes_are_each_reported_with_their_place() {
    // BASE is 16 lines, then a blank line: [survey] is line 18.
    let text = format!(
        r#"{BASE}
[survey]
kind = "ces"
days_after_delivery = -1
reminder_days = 20
channels = ["email", "sms"]
colour = "red"

[follow_up]
support_email = "support.shop.example"
helpdesk_webhook_url = "https://helpdesk.example/hook"
helpdesk_webhook_secret = {{ value = "not-a-whsec-secret-value" }}
detractor_tag = "a,b"
review_url = "reviews"

[dashboard]
key = "written-here"
"#
    );
    let o = check(&text, &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    for expected in [
        ":19:8: survey.kind: expected `nps` or `csat`, found `ces`",
        ":20:23: survey.days_after_delivery: -1 is out of range (0 to",
        ":23:1: survey.colour: unknown field `colour`",
        ":28:27: follow_up.helpdesk_webhook_secret: not a Standard Webhooks secret",
        ":29:17: follow_up.detractor_tag: `a,b` is not one tag",
        ":30:14: follow_up.review_url: `reviews` is not a URL",
        ":33:7: dashboard.key: a secret is not written in the file as a string",
        ":26:17: follow_up.support_email: `support.shop.example` is not an email address",
        "8 problems",
    ] {
        assert!(e.contains(expected), "missing {expected:?} in:\n{e}");
    }
    // A broken [survey] is not checked for meaning (its reminder, its channels).
    assert!(!e.contains("survey.reminder_days"), "{e}");
    // The secrets are never echoed.
    assert!(!e.contains("not-a-whsec-secret-value"), "{e}");
    assert!(!e.contains("written-here"), "{e}");
}

#[test]
fn survey_meaning_mistakes_are_reported_with_their_place() {
    let text = format!(
        r#"{BASE}
[survey]
days_after_delivery = 5
days_after_shipping = 2
reminder_days = 20
channels = ["email", "sms"]

[follow_up]
support_email = "support.shop.example"
helpdesk_webhook_secret = {{ value = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }}
"#
    );
    let o = check(&text, &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    for expected in [
        ":20:23: survey.days_after_shipping: the fallback after shipping (2 days) would come before",
        ":21:17: survey.reminder_days: the reminder would come after the survey closes (14 days open)",
        ":22:13: survey.channels[0]: email is in the preference order but not configured; add [smtp]",
        ":25:17: follow_up.support_email: `support.shop.example` is not an email address",
        ":26:27: follow_up.helpdesk_webhook_secret: a webhook secret without `helpdesk_webhook_url`",
        "5 problems",
    ] {
        assert!(e.contains(expected), "missing {expected:?} in:\n{e}");
    }
}

#[test]
fn follow_up_and_dashboard_need_a_survey() {
    let text = format!(
        r#"{BASE}
[follow_up]
detractor_tag = "unhappy"

[dashboard]
key = {{ value = "dash" }}
"#
    );
    let o = check(&text, &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains(":18:1: follow_up: follow-ups act on survey answers; add a [survey] section"),
        "{e}"
    );
    assert!(
        e.contains(":21:1: dashboard: the dashboard shows survey scores; add a [survey] section"),
        "{e}"
    );
}

#[test]
fn a_misspelt_key_gets_the_nearest_one_and_a_number_for_text_is_explained() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tracking-links.example.toml"),
    )
    .unwrap();
    let bad = text
        .replacen("cooldown_days = 90", "cooldwn_days = 90", 1)
        .replacen(
            "[smtp]\nhost = \"smtp.example.com\"",
            "[smtp]\nhost = 25",
            1,
        );
    assert_ne!(bad, text);
    let o = check(&bad, EXAMPLE_ENV);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains(
            "survey.cooldwn_days: unknown field `cooldwn_days`; did you mean `cooldown_days`?"
        ),
        "{e}"
    );
    assert!(
        e.contains("smtp.host: `25` is an integer: put it in quotes"),
        "{e}"
    );
    // Every problem at once, not the first only.
    assert!(e.contains("2 problems"), "{e}");
}

#[test]
fn retention_must_outlast_the_survey_cool_down() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tracking-links.example.toml"),
    )
    .unwrap();
    let bad = text.replace("[retention]\ndays = 365", "[retention]\ndays = 60");
    assert_ne!(bad, text);
    let o = check(&bad, EXAMPLE_ENV);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("retention.days: 60 days is not longer than the survey cool-down (survey.cooldown_days = 90)"),
        "{e}"
    );
    assert!(e.contains("1 problem"), "{e}");
}

#[test]
fn the_feedback_binary_has_the_check_config_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.toml");
    std::fs::write(&file, "[shopify]\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_feedback"))
        .args(["check-config", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("missing field `server`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_binary_describes_itself_in_its_help() {
    for (bin, words) in [
        (env!("CARGO_BIN_EXE_tracking-links"), "tracking links"),
        (env!("CARGO_BIN_EXE_feedback"), "NPS, CSAT and CES"),
        (env!("CARGO_BIN_EXE_receiver"), "Receive signed webhooks"),
    ] {
        let o = Command::new(bin).arg("--help").output().unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(words), "{bin}: {out}");
        assert!(
            !out.contains("reference integration"),
            "{bin} says the crate's description: {out}"
        );
    }
}

#[test]
fn the_feedback_binary_checks_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.toml");
    std::fs::write(&file, format!("{BASE}\n[survey]\nkind = \"ces\"\n")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_feedback"))
        .arg("--check-config")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains(":19:8: survey.kind: expected `nps` or `csat`, found `ces`"),
        "{e}"
    );
    assert!(e.contains("1 problem"), "{e}");
}

#[test]
fn the_retention_period_is_checked() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tracking-links.example.toml"),
    )
    .unwrap();
    let bad = text.replace("[retention]\ndays = 365", "[retention]\ndays = 0");
    assert_ne!(bad, text, "the example file has a [retention] section");
    let o = check(&bad, EXAMPLE_ENV);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("retention.days: 0 is out of range"),
        "{}",
        stderr(&o)
    );
}

/// Everything but the shop: the server and one channel.
const REST: &str = r#"
[server]
public_url = "https://shop.example/aftercare"

[twilio]
account_sid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
auth_token = { value = "x" }
from = "+14155550100"

[tracking]
channels = ["sms"]
"#;

#[test]
fn a_woocommerce_and_a_bigcommerce_shop_pass() {
    let woo = format!(
        r#"[shop]
platform = "woocommerce"

[woocommerce]
site = "https://shop.example/"
consumer_key = {{ env = "WOO_CONSUMER_KEY" }}
consumer_secret = {{ env = "WOO_CONSUMER_SECRET" }}
webhook_secrets = [{{ env = "WOO_WEBHOOK_SECRET" }}]
tracking_link_key = {{ value = "k" }}
poll_interval_secs = 120
{REST}"#
    );
    let env = [
        ("WOO_CONSUMER_KEY", "ck_x"),
        ("WOO_CONSUMER_SECRET", "cs_x"),
        ("WOO_WEBHOOK_SECRET", "w"),
    ];
    let o = check(&woo, &env);
    assert!(o.status.success(), "{}", stderr(&o));
    // The same file without the variables names each.
    let o = check(&woo, &env[..1]);
    let e = stderr(&o);
    assert!(
        e.contains(":7:19: woocommerce.consumer_secret: the environment variable `WOO_CONSUMER_SECRET` is not set"),
        "{e}"
    );
    assert!(e.contains("2 problems"), "{e}");

    let bc = format!(
        r#"[shop]
platform = "bigcommerce"

[bigcommerce]
store_hash = "abc123"
access_token = {{ value = "t" }}
client_secrets = [{{ value = "s" }}]
tracking_link_key = {{ value = "k" }}
{REST}"#
    );
    let o = check(&bc, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_magento_store_passes_and_its_credentials_are_checked() {
    let magento = format!(
        r#"[shop]
platform = "magento"

[magento]
base_url = "https://shop.example/"
consumer_key = {{ value = "ck" }}
consumer_secret = {{ value = "cs" }}
access_token = {{ value = "at" }}
access_token_secret = {{ env = "MAGENTO_TOKEN_SECRET" }}
tracking_link_key = {{ value = "k" }}
{REST}"#
    );
    let o = check(&magento, &[("MAGENTO_TOKEN_SECRET", "ts")]);
    assert!(o.status.success(), "{}", stderr(&o));
    // One of the integration's four credentials missing; a webhook key that is no key;
    // polling off with no webhook key.
    let broken = magento
        .replace("access_token = {{ value = \"at\" }}\n", "")
        .replace("access_token = { value = \"at\" }\n", "")
        .replace(
            "tracking_link_key",
            "webhook_public_keys = [\"not a key\"]\ncatch_up = false\ntracking_link_key",
        );
    let o = check(&broken, &[("MAGENTO_TOKEN_SECRET", "ts")]);
    let e = stderr(&o);
    assert!(!o.status.success(), "{e}");
    assert!(e.contains("magento.access_token:"), "{e}");
    assert!(e.contains("magento.webhook_public_keys[0]:"), "{e}");
}

#[test]
fn the_chosen_platform_needs_its_section() {
    // A `[shopify]` section does not serve a WooCommerce shop: the missing section is
    // reported on the line that chose the platform.
    let text = format!(
        r#"[shop]
platform = "woocommerce"

[shopify]
shop = "shop.myshopify.com"
access_token = {{ value = "a" }}
client_secrets = [{{ value = "s" }}]
tracking_link_key = {{ value = "k" }}
{REST}"#
    );
    let o = check(&text, &[]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains(":2:12: shop.platform: missing section [woocommerce]"),
        "{e}"
    );
    assert!(e.contains("1 problem"), "{e}");
    // Without `[shop]` the platform is Shopify, whose section is then needed.
    let o = check(REST, &[]);
    let e = stderr(&o);
    assert!(
        e.contains(":1:1: shop.platform: missing section [shopify]"),
        "{e}"
    );
    // Sections are checked for their meaning, and an unknown platform is refused.
    let text = format!(
        r#"[shop]
platform = "bigcommerce"

[bigcommerce]
store_hash = "stores/abc"
access_token = {{ value = "t" }}
client_secrets = []
tracking_link_key = {{ value = "k" }}
{REST}"#
    );
    let e = stderr(&check(&text, &[]));
    assert!(
        e.contains(":5:14: bigcommerce.store_hash: `stores/abc` is not a store hash"),
        "{e}"
    );
    assert!(
        e.contains(":7:18: bigcommerce.client_secrets: at least one client secret"),
        "{e}"
    );
    let e = stderr(&check(
        &format!("[shop]\nplatform = \"magento\"\n{REST}"),
        &[],
    ));
    assert!(e.contains(":2:12: shop.platform:"), "{e}");
    let woo_site = format!(
        r#"[shop]
platform = "woocommerce"

[woocommerce]
site = "shop.example"
consumer_key = {{ value = "a" }}
consumer_secret = {{ value = "b" }}
webhook_secrets = [{{ value = "c" }}]
tracking_link_key = {{ value = "k" }}
{REST}"#
    );
    let e = stderr(&check(&woo_site, &[]));
    assert!(e.contains(":5:8: woocommerce.site:"), "{e}");
}

#[test]
fn an_optional_section_with_missing_fields_names_them() {
    // `[twilio]` may be left out, but once there its fields are needed: each is named (not
    // "expected a table, found a table").
    let text = format!("{BASE}\n[smtp]\nhost = \"smtp.example\"\n");
    let e = stderr(&check(&text, &[]));
    assert!(e.contains("smtp: missing field `from`"), "{e}");
    assert!(!e.contains("found a table"), "{e}");
}

/// `[tracking_source]`: a right section passes; its mistakes are each reported with their
/// place.
#[test]
fn a_tracking_source_section_is_checked() {
    let good = format!(
        r#"[shop]
platform = "woocommerce"

[woocommerce]
site = "https://shop.example/"
consumer_key = {{ value = "ck_x" }}
consumer_secret = {{ value = "cs_x" }}
webhook_secrets = [{{ value = "w" }}]
tracking_link_key = {{ value = "k" }}

[tracking_source]
service = "aftership"
api_key = {{ env = "AFTERSHIP_API_KEY" }}
webhook_secrets = [{{ env = "AFTERSHIP_WEBHOOK_SECRET" }}]
stop_after_days = 45
{REST}"#
    );
    let env = [
        ("AFTERSHIP_API_KEY", "asat_x"),
        ("AFTERSHIP_WEBHOOK_SECRET", "s"),
    ];
    let o = check(&good, &env);
    assert!(o.status.success(), "{}", stderr(&o));
    let bad = good
        .replace(
            "webhook_secrets = [{ env = \"AFTERSHIP_WEBHOOK_SECRET\" }]",
            "webhook_secrets = []\nsign_scheme = \"hmac_sha256_hex\"",
        )
        .replace("stop_after_days = 45", "stop_after_days = 0");
    let e = stderr(&check(&bad, &env));
    assert!(
        e.contains("tracking_source.webhook_secrets: at least one is needed"),
        "{e}"
    );
    assert!(
        e.contains("tracking_source.sign_scheme: only 17TRACK"),
        "{e}"
    );
    assert!(e.contains("tracking_source.stop_after_days"), "{e}");
    let unknown = good.replace("service = \"aftership\"", "service = \"pigeon\"");
    assert!(!check(&unknown, &env).status.success());
}

#[test]
fn branding_is_checked_an_unreadable_accent_refused_with_a_readable_shade() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tracking-links.example.toml"),
    )
    .unwrap();
    assert!(
        text.contains("[branding]"),
        "the reference file shows the section"
    );
    let bad = text
        .replacen(
            "accent_colour = \"#7a1f5c\"",
            "accent_colour = \"#ffd700\"",
            1,
        )
        .replacen(
            "logo_url = \"https://cdn.example.com/shop-logo.png\"",
            "logo_url = \"http://cdn.example.com/shop-logo.png\"",
            1,
        )
        .replacen("shop_url = ", "shop_ulr = ", 1);
    let o = check(&bad, EXAMPLE_ENV);
    assert!(!o.status.success());
    let e = stderr(&o);
    for expected in [
        "branding.accent_colour: `#ffd700` has a contrast of 1.40:1 with white; text needs at least 4.5:1 (the nearest readable shade is `#",
        "or set `adjust_accent = true`",
        "branding.logo_url: `http://cdn.example.com/shop-logo.png` must be an https:// URL",
        "branding.shop_ulr: unknown field `shop_ulr`; did you mean `shop_url`?",
        "3 problems",
    ] {
        assert!(e.contains(expected), "missing {expected:?} in:\n{e}");
    }
    // Darkened on request instead.
    let adjusted = text.replacen(
        "accent_colour = \"#7a1f5c\"",
        "accent_colour = \"#ffd700\"\nadjust_accent = true",
        1,
    );
    let o = check(&adjusted, EXAMPLE_ENV);
    assert!(o.status.success(), "{}", stderr(&o));
}
