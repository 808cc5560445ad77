//! `[recovery]`: service recovery before a customer leaves (the sdk's
//! [`RecoveryFlow`](aftercare::flows::recovery::RecoveryFlow)), and its checks.
//!
//! Off without the section: an apology is a message the shop did not write itself, so a
//! shop turns it on. With the section, the signals (an exception, a failed attempt, a delay
//! past the threshold, a detractor's answer with `[follow_up]`) get an apology and an order
//! tag, each once per order. A discount code is added only with `[recovery.discount]`, and
//! then only for customers with a recorded **marketing opt-in** on the channel used: a code
//! is a marketing offer (a customer without an opt-in, or who opted out, gets the apology
//! alone). `ticket = true` also opens (or notes on) the order's support ticket in the
//! `[helpdesk]` desk, once per order (it needs `[helpdesk]`). A complaint reply reaches
//! recovery with `[survey]` and `[follow_up]`.

use super::*;

/// An early sign of a bad experience.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecoverySignal {
    /// The carrier reported an exception.
    Exception,
    /// A delivery attempt failed.
    FailedAttempt,
    /// Later than the estimate by `delay_threshold_days` or more.
    Delay,
    /// A detractor's survey answer (with `[survey]` and `[follow_up]`).
    Detractor,
    /// A complaint about the order.
    Complaint,
}

impl RecoverySignal {
    /// The sdk's signal.
    pub fn to_sdk(self) -> aftercare::flows::recovery::Signal {
        use aftercare::flows::recovery::Signal;
        match self {
            RecoverySignal::Exception => Signal::Exception,
            RecoverySignal::FailedAttempt => Signal::FailedAttempt,
            RecoverySignal::Delay => Signal::Delay,
            RecoverySignal::Detractor => Signal::Detractor,
            RecoverySignal::Complaint => Signal::Complaint,
        }
    }
}

fn all_signals() -> Vec<RecoverySignal> {
    vec![
        RecoverySignal::Exception,
        RecoverySignal::FailedAttempt,
        RecoverySignal::Delay,
        RecoverySignal::Detractor,
        RecoverySignal::Complaint,
    ]
}

fn two() -> u32 {
    2
}

fn yes() -> bool {
    true
}

fn recovery_tag() -> String {
    "aftercare-recovery".into()
}

fn sixty() -> u32 {
    60
}

fn sorry() -> String {
    "SORRY".into()
}

/// Service recovery: what is acted on and what is done, once per order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryConfig {
    /// The signals acted on (default all: `exception`, `failed_attempt`, `delay`,
    /// `detractor`, `complaint`).
    #[serde(default = "all_signals")]
    pub signals: Vec<RecoverySignal>,
    /// A delay counts from this many days past the carrier's estimate (default 2).
    #[serde(default = "two")]
    pub delay_threshold_days: u32,
    /// Send an apology in the customer's language (default true).
    #[serde(default = "yes")]
    pub apology: bool,
    /// Tag the order in the shop (default `aftercare-recovery`; `""` for none).
    #[serde(default = "recovery_tag")]
    pub tag: String,
    /// Open the order's support ticket in the `[helpdesk]` desk, or note on the one it has
    /// (default false; needs `[helpdesk]`).
    #[serde(default)]
    pub ticket: bool,
    /// A single-use discount code in the apology, made through the platform (left out:
    /// none). Only customers with a recorded marketing opt-in get it.
    #[serde(default)]
    pub discount: Option<RecoveryDiscountConfig>,
    /// The key the codes' names are derived from (default: the tracking link key, under a
    /// purpose of its own). Keep it stable: a new key makes new codes.
    #[serde(default)]
    pub code_key: Option<SecretRef>,
}

/// The discount offered in an apology: `percent`, or `amount_minor` with `currency`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryDiscountConfig {
    /// Percent off the order (1-100).
    #[serde(default)]
    pub percent: Option<u8>,
    /// A fixed amount off, in the currency's minor unit (`500` = 5.00 EUR).
    #[serde(default)]
    pub amount_minor: Option<i64>,
    /// The amount's currency (ISO 4217, `EUR`).
    #[serde(default)]
    pub currency: Option<String>,
    /// Days the code is valid (default 60).
    #[serde(default = "sixty")]
    pub valid_days: u32,
    /// The codes' prefix, capital letters and digits (default `SORRY`: `SORRY-7KQ…`).
    #[serde(default = "sorry")]
    pub prefix: String,
}

/// The platforms whose adapter makes discount codes (`DiscountCodes`).
pub fn makes_discount_codes(p: Platform) -> bool {
    matches!(
        p,
        Platform::Shopify
            | Platform::Woocommerce
            | Platform::Bigcommerce
            | Platform::Magento
            | Platform::Salla
    )
}

/// The platforms that make discount codes, for messages.
pub const DISCOUNT_PLATFORMS: &str = "Shopify, WooCommerce, BigCommerce, Magento and Salla";

impl RecoveryConfig {
    /// The sdk's settings (the channels are the tracking channels, set by the caller).
    pub fn settings(&self) -> aftercare::flows::recovery::RecoverySettings {
        use aftercare::flows::recovery::{DiscountOffer, RecoverySettings};
        use aftercare::platform::discount::DiscountValue;
        let offer = self.discount.as_ref().and_then(|d| {
            let value = match (d.percent, d.amount_minor, &d.currency) {
                (Some(p), _, _) => DiscountValue::Percent(p),
                (None, Some(a), Some(c)) => {
                    DiscountValue::Amount(aftercare::model::Money::new(a, c.clone()))
                }
                _ => return None,
            };
            let mut o = DiscountOffer::new(value);
            o.valid_days = i64::from(d.valid_days);
            o.prefix.clone_from(&d.prefix);
            Some(o)
        });
        RecoverySettings::default()
            .with_signals(self.signals.iter().map(|s| s.to_sdk()).collect())
            .with_delay_threshold(chrono::Duration::days(i64::from(self.delay_threshold_days)))
            .with_apology(self.apology)
            .with_tag((!self.tag.is_empty()).then(|| self.tag.clone()))
            .with_ticket(self.ticket)
            .with_offer(offer)
    }
}

pub(super) fn semantic_recovery(
    r: &RecoveryConfig,
    platform: Option<Platform>,
    helpdesk: bool,
    report: &mut dyn FnMut(&str, String),
) {
    if r.ticket && !helpdesk {
        report(
            "recovery.ticket",
            "a ticket needs a desk: add [helpdesk], or set `ticket = false`".into(),
        );
    }
    if r.signals.is_empty() {
        report(
            "recovery.signals",
            "no signal is acted on; list at least one, or remove the section".into(),
        );
    }
    if r.delay_threshold_days > 60 {
        report(
            "recovery.delay_threshold_days",
            format!(
                "{} days late is past the point of recovering anything; use 1 to 60",
                r.delay_threshold_days
            ),
        );
    }
    if !r.apology && r.tag.is_empty() && r.discount.is_none() && !r.ticket {
        report(
            "recovery",
            "no action: turn on `apology` or `ticket`, set a `tag` or add [recovery.discount]"
                .into(),
        );
    }
    if r.tag.len() > 40 || r.tag.contains(',') {
        report(
            "recovery.tag",
            "a tag has at most 40 characters and no comma".into(),
        );
    }
    if let Some(k) = &r.code_key {
        secret_ok(k, "recovery.code_key", report);
    }
    let Some(d) = &r.discount else {
        return;
    };
    if !r.apology {
        report(
            "recovery.discount",
            "the code is offered in the apology; set `apology = true` or remove the discount"
                .into(),
        );
    }
    if let Some(p) = platform.filter(|p| !makes_discount_codes(*p)) {
        report(
            "recovery.discount",
            format!(
                "discount codes are made through {DISCOUNT_PLATFORMS} only so far, not {}; \
                 remove [recovery.discount] (the apology and tag still work)",
                p.name()
            ),
        );
    }
    match (d.percent, d.amount_minor, &d.currency) {
        (Some(p), None, None) if (1..=100).contains(&p) => {}
        (Some(p), None, None) => report(
            "recovery.discount.percent",
            format!("{p}% is not a discount; use 1 to 100"),
        ),
        (None, Some(a), Some(c)) => {
            if a <= 0 {
                report(
                    "recovery.discount.amount_minor",
                    "the amount must be above zero".into(),
                );
            }
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                report(
                    "recovery.discount.currency",
                    format!("`{c}` is not an ISO 4217 code such as EUR"),
                );
            }
        }
        (None, Some(_), None) => report(
            "recovery.discount.currency",
            "an amount needs its currency (`currency = \"EUR\"`)".into(),
        ),
        _ => report(
            "recovery.discount",
            "give either `percent`, or `amount_minor` with `currency`".into(),
        ),
    }
    if !(1..=365).contains(&d.valid_days) {
        report(
            "recovery.discount.valid_days",
            "a code is valid 1 to 365 days".into(),
        );
    }
    if d.prefix.is_empty()
        || d.prefix.len() > 12
        || !d
            .prefix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        report(
            "recovery.discount.prefix",
            format!(
                "`{}` is not a prefix: 1 to 12 capital letters or digits",
                d.prefix
            ),
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    const BASE: &str = "[shopify]\nshop = \"s.myshopify.com\"\naccess_token = { value = \"a\" }\nclient_secrets = [{ value = \"s\" }]\ntracking_link_key = { value = \"k\" }\n\n[server]\npublic_url = \"https://shop.example\"\n";

    /// The problems `check` finds in `[recovery]` (the base file has others: no channel).
    fn problems(text: &str) -> Vec<String> {
        match super::super::check(text) {
            Ok(_) => Vec::new(),
            Err(p) => p
                .into_iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .filter(|l| l.starts_with("recovery"))
                .collect(),
        }
    }

    #[test]
    fn a_recovery_section_with_a_code_is_accepted_and_read() {
        let text = format!(
            "{BASE}\n[recovery]\ndelay_threshold_days = 3\nsignals = [\"delay\", \"exception\"]\n\n[recovery.discount]\npercent = 15\n"
        );
        assert_eq!(problems(&text), Vec::<String>::new());
        let cfg: super::super::TrackingLinksConfig = toml::from_str(&text).unwrap();
        let r = cfg.recovery.unwrap();
        let s = r.settings();
        assert_eq!(s.delay_threshold, chrono::Duration::days(3));
        assert_eq!(s.signals.len(), 2);
        assert!(s.apology, "the apology is on by default");
        assert_eq!(s.tag.as_deref(), Some("aftercare-recovery"));
        let offer = s.offer.unwrap();
        assert_eq!(
            offer.value,
            aftercare::platform::discount::DiscountValue::Percent(15)
        );
        assert_eq!((offer.valid_days, offer.prefix.as_str()), (60, "SORRY"));
    }

    #[test]
    fn without_a_discount_no_code_is_offered() {
        let text = format!("{BASE}\n[recovery]\n");
        assert_eq!(problems(&text), Vec::<String>::new());
        let cfg: super::super::TrackingLinksConfig = toml::from_str(&text).unwrap();
        assert!(cfg.recovery.unwrap().settings().offer.is_none());
    }

    #[test]
    fn the_mistakes_of_a_recovery_section_are_reported() {
        let bad = format!(
            "{BASE}\n[recovery]\nsignals = []\napology = false\ntag = \"\"\ndelay_threshold_days = 90\n\n[recovery.discount]\npercent = 150\nprefix = \"sorry-\"\nvalid_days = 0\n"
        );
        let p = problems(&bad);
        for path in [
            "recovery.signals:",
            "recovery.delay_threshold_days:",
            "recovery.discount:",
            "recovery.discount.percent:",
            "recovery.discount.prefix:",
            "recovery.discount.valid_days:",
        ] {
            assert!(p.iter().any(|l| l.starts_with(path)), "{path} in {p:?}");
        }
        let amount = format!("{BASE}\n[recovery]\n\n[recovery.discount]\namount_minor = 500\n");
        assert!(
            problems(&amount)
                .iter()
                .any(|l| l.starts_with("recovery.discount.currency:")),
            "{:?}",
            problems(&amount)
        );
        let nothing = format!("{BASE}\n[recovery]\napology = false\ntag = \"\"\n");
        assert!(
            problems(&nothing)
                .iter()
                .any(|l| l.starts_with("recovery: no action"))
        );
        let unknown = format!("{BASE}\n[recovery]\nsignal = [\"delay\"]\n");
        assert!(problems(&unknown).iter().any(|l| l.starts_with("recovery")));
    }

    #[test]
    fn a_ticket_needs_a_helpdesk() {
        let alone = format!("{BASE}\n[recovery]\nticket = true\n");
        assert!(
            problems(&alone)
                .iter()
                .any(|l| l.starts_with("recovery.ticket:") && l.contains("[helpdesk]")),
            "{:?}",
            problems(&alone)
        );
        let desk = format!(
            "{BASE}\n[helpdesk]\nprovider = \"zendesk\"\nbase_url = \"https://shop.zendesk.com\"\nemail = \"agent@shop.example\"\napi_token = {{ value = \"t\" }}\n\n[recovery]\nticket = true\napology = false\ntag = \"\"\n"
        );
        assert_eq!(
            problems(&desk),
            Vec::<String>::new(),
            "a ticket alone is an action"
        );
        let cfg: super::super::TrackingLinksConfig = toml::from_str(&desk).unwrap();
        let s = cfg.recovery.unwrap().settings();
        assert!(s.ticket && !s.apology);
        let off: super::super::TrackingLinksConfig =
            toml::from_str(&format!("{BASE}\n[recovery]\n")).unwrap();
        assert!(!off.recovery.unwrap().settings().ticket, "off by default");
    }

    #[test]
    fn a_code_on_a_platform_without_discount_codes_is_refused() {
        let woo = "[shop]\nplatform = \"woocommerce\"\n\n[woocommerce]\nsite = \"https://shop.example\"\nconsumer_key = { value = \"ck\" }\nconsumer_secret = { value = \"cs\" }\nwebhook_secrets = [{ value = \"w\" }]\ntracking_link_key = { value = \"k\" }\n\n[server]\npublic_url = \"https://shop.example\"\n\n[recovery]\n\n[recovery.discount]\npercent = 10\n";
        assert_eq!(
            problems(woo),
            Vec::<String>::new(),
            "WooCommerce makes coupons"
        );
        for p in ["bigcommerce", "magento", "salla"] {
            let text = woo.replace("platform = \"woocommerce\"", &format!("platform = \"{p}\""));
            assert_eq!(problems(&text), Vec::<String>::new(), "{p} makes coupons");
        }
        let other = woo.replace("platform = \"woocommerce\"", "platform = \"zid\"");
        let p = problems(&other);
        assert!(
            p.iter()
                .any(|l| l.starts_with("recovery.discount:") && l.contains("only so far")),
            "{p:?}"
        );
    }
}
