#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;

#[test]
fn hhmm() {
    assert_eq!(parse_hhmm("21:00"), NaiveTime::from_hms_opt(21, 0, 0));
    assert_eq!(parse_hhmm("8:00"), None);
    assert_eq!(parse_hhmm("24:00"), None);
    assert_eq!(parse_hhmm("21h00"), None);
}

#[test]
fn senders() {
    assert!(is_e164("+14155550100"));
    assert!(!is_e164("4155550100"));
    assert!(!is_e164("+1 415 555"));
    assert!(is_mailbox("orders@shop.example"));
    assert!(is_mailbox("Shop <orders@shop.example>"));
    assert!(!is_mailbox("orders.shop.example"));
    assert!(!is_mailbox("Shop <orders@shop>"));
}

#[test]
fn server_limits_default_to_the_sdk_defaults_and_follow_the_file() {
    use std::time::Duration;
    let base = "[shopify]\nshop = \"s.myshopify.com\"\naccess_token = { value = \"a\" }\nclient_secrets = [{ value = \"s\" }]\ntracking_link_key = { value = \"k\" }\n\n[server]\npublic_url = \"https://shop.example\"\n";
    let cfg: TrackingLinksConfig = toml::from_str(base).unwrap();
    assert_eq!(
        cfg.server.serve_options(),
        aftercare::http::ServeOptions::default()
    );
    let text = format!(
        "{base}header_read_timeout_secs = 3\nbody_read_timeout_secs = 7\nidle_timeout_secs = 2\nmax_connections = 64\nshutdown_grace_secs = 0\n"
    );
    let cfg: TrackingLinksConfig = toml::from_str(&text).unwrap();
    let o = cfg.server.serve_options();
    assert_eq!(o.get_header_read_timeout(), Duration::from_secs(3));
    assert_eq!(o.get_body_read_timeout(), Duration::from_secs(7));
    assert_eq!(o.get_idle_timeout(), Duration::from_secs(2));
    assert_eq!(o.get_max_connections(), 64);
    assert_eq!(o.get_shutdown_grace(), Duration::ZERO);
}

#[test]
fn line_and_column() {
    assert_eq!(line_col("a\nbc\nd", 3), (2, 2));
    assert_eq!(line_col("abc", 0), (1, 1));
}

#[test]
fn nuvemshop_and_ikas_sections_are_read_and_checked() {
    let server = "\n[server]\npublic_url = \"https://shop.example\"\n";
    let nuvem = format!(
        "[shop]\nplatform = \"nuvemshop\"\n[nuvemshop]\nstore_id = \"123\"\napp_id = \"4815\"\naccess_token = {{ value = \"a\" }}\nuser_agent = \" \"\napp_secrets = [{{ value = \"s\" }}]\ntracking_link_key = {{ value = \"k\" }}\n{server}"
    );
    let cfg: TrackingLinksConfig = toml::from_str(&nuvem).unwrap();
    assert_eq!(cfg.shop.platform, Platform::Nuvemshop);
    assert!(
        cfg.nuvemshop.as_ref().unwrap().catch_up,
        "catch-up is on by default"
    );
    let problems = check(&nuvem).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains("nuvemshop.user_agent")),
        "{problems:?}"
    );
    let ikas = format!("[shop]\nplatform = \"ikas\"\n{server}");
    let problems = check(&ikas).unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains("missing section [ikas]")),
        "{problems:?}"
    );
}
