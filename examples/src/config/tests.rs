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
#[test]
fn salla_needs_exactly_one_webhook_strategy_and_a_32_byte_token_key() {
    let text = |extra: &str, key: &str| {
        format!(
            "merchant = \"1234509876\"\nclient_id = \"c\"\nclient_secret = {{ value = \"s\" }}\ntoken_key = {{ value = \"{key}\" }}\ntracking_link_key = {{ value = \"k\" }}\n{extra}"
        )
    };
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let problems = |t: String| {
        let s: SallaConfig = toml::from_str(&t).unwrap();
        let mut out = Vec::new();
        semantic_salla(&s, &mut |path, m| out.push(format!("{path}: {m}")));
        out
    };
    assert!(problems(text("webhook_secrets = [{ value = \"w\" }]", key)).is_empty());
    let none = problems(text("", key));
    assert!(
        none.iter().any(|p| p.starts_with("salla.webhook_secrets")),
        "{none:?}"
    );
    let both = problems(text(
        "webhook_secrets = [{ value = \"w\" }]\nallow_unauthenticated_webhooks = true",
        key,
    ));
    assert!(
        both.iter().any(|p| p.starts_with("salla.webhook_secrets")),
        "{both:?}"
    );
    let short = problems(text("webhook_tokens = [{ value = \"t\" }]", "c2hvcnQ="));
    assert!(
        short.iter().any(|p| p.starts_with("salla.token_key")),
        "{short:?}"
    );
}

#[test]
fn zid_needs_a_secret_webhook_path() {
    let text = |name: &str| {
        format!(
            "store_id = \"251073\"\nsource_name = \"{name}\"\nwebhook_username = \"aftercare\"\nwebhook_passwords = [{{ value = \"p\" }}]\npartner_token = {{ value = \"a\" }}\nmanager_token = {{ value = \"m\" }}\nrefresh_token = {{ value = \"r\" }}\nclient_id = \"c\"\nclient_secret = {{ value = \"s\" }}\ntoken_key = {{ value = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\" }}\ntracking_link_key = {{ value = \"k\" }}\n"
        )
    };
    let problems = |t: String| {
        let z: ZidConfig = toml::from_str(&t).unwrap();
        let mut out = Vec::new();
        semantic_zid(&z, &mut |path, m| out.push(format!("{path}: {m}")));
        out
    };
    assert!(problems(text("zid-Q7f3a9c0b1d2e4f5a")).is_empty());
    for guessable in ["zid", "zid-webhooks", "zid-1234567890abcde!"] {
        let p = problems(text(guessable));
        assert!(
            p.iter().any(|p| p.starts_with("zid.source_name")),
            "{guessable}: {p:?}"
        );
    }
}
