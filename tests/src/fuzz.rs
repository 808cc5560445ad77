//! A bounded random-mutation fuzzer, on stable Rust, for everything that parses outside
//! bytes: every Shopify topic's decoder; WooCommerce's, BigCommerce's, Adobe Commerce's
//! (Magento) and Adobe I/O Events', Nuvemshop's, ikas's, Salla's and Zid's webhooks; the
//! tracking sources' (AfterShip, EasyPost, 17TRACK, Shippo); Twilio's form and JSON webhooks,
//! WhatsApp Cloud's
//! webhooks and Aftercare's native events, each through its source's `verify` (with a valid
//! signature over the mutated bytes, so the code behind the HMAC runs too) and `decode`.
//!
//! Inputs start from the documented payloads the adapters' tests use (their fixture files)
//! and are mutated byte-wise (flips, inserts, deletions, splices between seeds) and
//! token-wise (numbers out of range, floats as ids, `null`, deep nesting, escapes, form
//! separators). A panic is a finding: its input is written to `target/fuzz/findings/`. Run
//! it with `cargo xtask fuzz [--seconds N] [--seed S] [--target NAME]`; CI runs it for a
//! bounded time. cargo-fuzz (libFuzzer, nightly) would find deeper paths; this one needs no
//! nightly toolchain and runs anywhere the tests run.
//!
//! One file past 800 lines: one target list and one mutation engine; each target is a few
//! lines calling the parser it names.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aftercare::store::InboxEntry;
use aftercare::webhook::{
    NativeSource, RawHeaders, Scheme, Secret, VerifiedWebhook, Verifier, WebhookRequest,
    WebhookSource,
};
use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Signs a body as the sender would, given the topic: the request's headers.
type Signer = Box<dyn Fn(&str, &[u8]) -> RawHeaders + Send + Sync>;

/// One fuzz target: seeds, and how to sign a body and name its topic.
pub struct Target {
    /// Its name (`shopify`, `twilio-form`...).
    pub name: &'static str,
    seeds: Vec<Vec<u8>>,
    topics: Vec<&'static str>,
    source: Arc<dyn WebhookSource>,
    sign: Signer,
}

/// What a run of one target found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Inputs tried.
    pub iterations: u64,
    /// Inputs that verified (signature over the mutated bytes) and were decoded.
    pub verified: u64,
    /// Inputs decoded into at least one event.
    pub decoded: u64,
    /// Panics: (panic message, path of the saved input).
    pub findings: Vec<(String, PathBuf)>,
}

const SHOPIFY_TOPICS: &[&str] = &[
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "fulfillments/create",
    "fulfillments/update",
    "fulfillment_events/create",
    "customers/create",
    "customers/update",
    "app/uninstalled",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
    "products/create",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Every `*.json` file of a folder of the workspace.
fn json_files(dir: &str) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(root().join(dir)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

/// The named files of a folder of the workspace (those that exist).
fn files(dir: &str, names: &[&str]) -> Vec<Vec<u8>> {
    names
        .iter()
        .filter_map(|n| std::fs::read(root().join(dir).join(n)).ok())
        .collect()
}

const MAGENTO_FIXTURES: &str = "adapters/magento/tests/fixtures";

const TWILIO_URL: &str = "https://example.com/webhooks/twilio";
const WOO_SITE: &str = "https://shop.example/";
const SECRET: &str = "fuzz-secret";

/// The targets, with their seeds.
pub fn targets() -> Vec<Target> {
    let shopify = aftercare_shopify::ShopifyWebhooks::new(Secret::from(SECRET));
    let shopify_signer = shopify.clone();
    let mut shopify_seeds = json_files("adapters/shopify/tests/fixtures");
    shopify_seeds.extend(json_files("adapters/shopify/benches/fixtures"));

    let twilio = aftercare_twilio::webhook::TwilioWebhook::new(Secret::from(SECRET), TWILIO_URL);
    let twilio_form = twilio.clone();
    let twilio_json = twilio.clone();

    let whatsapp =
        aftercare_whatsapp_cloud::webhook::WhatsAppCloudWebhook::new(Secret::from(SECRET));
    let whatsapp_signer = whatsapp.clone();

    let woo = aftercare_woocommerce::WooWebhooks::new(WOO_SITE, Secret::from(SECRET));

    let native = NativeSource::new(Secret::from(SECRET));
    let native_signer = native.clone();

    let mut all = vec![
        Target {
            name: "shopify",
            seeds: shopify_seeds,
            topics: SHOPIFY_TOPICS.to_vec(),
            source: Arc::new(shopify),
            sign: Box::new(move |topic, body| {
                shopify_signer.sign_for_test(topic, "demo.myshopify.com", "fuzz", body)
            }),
        },
        Target {
            name: "twilio-form",
            seeds: twilio_form_seeds(),
            topics: vec![""],
            source: Arc::new(twilio.clone()),
            sign: Box::new(move |_, body| {
                RawHeaders::from_pairs([
                    ("X-Twilio-Signature", twilio_form.sign(body)),
                    (
                        "Content-Type",
                        "application/x-www-form-urlencoded".to_owned(),
                    ),
                ])
            }),
        },
        Target {
            name: "twilio-json",
            seeds: vec![
                br#"{"MessageSid":"SM1","MessageStatus":"delivered","AccountSid":"AC1"}"#.to_vec(),
                br#"[{"specversion":"1.0","type":"com.twilio.messaging.message.delivered","data":{"messageSid":"SM1"}}]"#.to_vec(),
            ],
            topics: vec![""],
            source: Arc::new(twilio),
            sign: Box::new(move |_, body| {
                RawHeaders::from_pairs([
                    ("X-Twilio-Signature", twilio_json.sign_json(body)),
                    ("Content-Type", "application/json".to_owned()),
                ])
            }),
        },
        Target {
            name: "whatsapp-cloud",
            seeds: whatsapp_seeds(),
            topics: vec![""],
            source: Arc::new(whatsapp),
            sign: Box::new(move |_, body| whatsapp_signer.sign(body)),
        },
        Target {
            name: "native",
            seeds: native_seeds(),
            topics: vec![""],
            source: Arc::new(native),
            sign: Box::new(move |_, body| native_signer.verifier().sign(body, Utc::now())),
        },
    ];
    let bc = aftercare_bigcommerce::BigCommerceWebhooks::new(Secret::from(SECRET), "abc123");
    let bc_signer = Verifier::new(Scheme::StandardWebhooks, Secret::from(SECRET));
    all.push(Target {
        name: "bigcommerce",
        seeds: json_files("adapters/bigcommerce/tests/fixtures"),
        topics: vec![""],
        source: Arc::new(bc),
        sign: Box::new(move |_, body| bc_signer.sign(body, Utc::now())),
    });
    // The carrier-tracking sources, each signed as it signs.
    let aftership_signer = Verifier::new(
        Scheme::hmac_sha256_base64(aftercare_aftership::SIGNATURE_HEADER),
        Secret::from(SECRET),
    );
    all.push(Target {
        name: "aftership",
        seeds: json_files("adapters/aftership/tests/fixtures"),
        topics: vec![""],
        source: Arc::new(aftercare_aftership::AfterShipWebhooks::new(Secret::from(
            SECRET,
        ))),
        sign: Box::new(move |_, body| aftership_signer.sign(body, Utc::now())),
    });
    let easypost_signer = Verifier::new(
        Scheme::hmac_sha256_hex_prefixed(
            aftercare_easypost::SIGNATURE_HEADER,
            aftercare_easypost::SIGNATURE_PREFIX,
        ),
        Secret::from(aftercare_easypost::normalize_secret(SECRET).as_str()),
    );
    all.push(Target {
        name: "easypost",
        seeds: json_files("adapters/easypost/tests/fixtures"),
        topics: vec![""],
        source: Arc::new(aftercare_easypost::EasyPostWebhooks::new(&Secret::from(
            SECRET,
        ))),
        sign: Box::new(move |_, body| easypost_signer.sign(body, Utc::now())),
    });
    let seventeen = aftercare_17track::SeventeenTrackWebhooks::new(Secret::from(SECRET));
    let seventeen_signer = seventeen.clone();
    all.push(Target {
        name: "17track",
        seeds: json_files("adapters/17track/tests/fixtures"),
        topics: vec![""],
        source: Arc::new(seventeen),
        sign: Box::new(move |_, body| {
            RawHeaders::from_pairs([(
                aftercare_17track::SIGN_HEADER,
                seventeen_signer.sign(&Secret::from(SECRET), body),
            )])
        }),
    });
    all.push(Target {
        name: "shippo",
        seeds: json_files("adapters/shippo/tests/fixtures"),
        topics: vec![""],
        source: Arc::new(aftercare_shippo::ShippoWebhooks::new(Secret::from(SECRET))),
        sign: Box::new(move |_, _| {
            RawHeaders::from_pairs([(
                aftercare::webhook::QUERY_PSEUDO_HEADER,
                format!("token={SECRET}"),
            )])
        }),
    });
    // Nuvemshop: the topic and the store travel in the signed body.
    let nuvem = aftercare_nuvemshop::NuvemshopWebhooks::new(Secret::from(SECRET), "4815", "123");
    let nuvem_signer = nuvem.clone();
    all.push(Target {
        name: "nuvemshop",
        seeds: json_files("adapters/nuvemshop/tests/fixtures"),
        topics: vec![""],
        source: Arc::new(nuvem),
        sign: Box::new(move |_, body| nuvem_signer.sign_for_test(body)),
    });
    // ikas: the signature is a field of the body (over its `data` string), so mutations of
    // the envelope's claims verify and reach the decoder; mutations of `data` test the
    // parse before the signature.
    let ikas = aftercare_ikas::IkasWebhooks::new(Secret::from(SECRET), "m-1");
    let ikas_seeds = json_files("adapters/ikas/tests/fixtures")
        .into_iter()
        .zip([
            "store/customer/updated",
            "store/order/created",
            "store/order/updated",
        ])
        .map(|(data, scope)| {
            let text = serde_json::from_slice::<serde_json::Value>(&data)
                .map(|v| v.to_string())
                .unwrap_or_default();
            ikas.envelope_for_test("wh-1", scope, "m-1", &text)
        })
        .collect();
    all.push(Target {
        name: "ikas",
        seeds: ikas_seeds,
        topics: vec![""],
        source: Arc::new(ikas),
        sign: Box::new(|_, _| RawHeaders::new()),
    });
    // Salla: the topic is the envelope's `event`, so the seeds carry theirs; signed with
    // the Signature strategy.
    if let Ok(salla) = aftercare_salla::SallaWebhooks::builder("1234509876")
        .signature(Secret::from(SECRET))
        .build()
    {
        let salla_signer = salla.clone();
        all.push(Target {
            name: "salla",
            seeds: json_files("adapters/salla/tests/fixtures"),
            topics: vec![""],
            source: Arc::new(salla),
            sign: Box::new(move |_, body| salla_signer.sign_for_test(body)),
        });
    }
    // Zid: the body is the order itself, authenticated by Basic credentials.
    if let Ok(zid) =
        aftercare_zid::BasicCredentials::new("fuzz", Secret::from(SECRET)).and_then(|c| {
            aftercare_zid::ZidWebhooks::builder("251073")
                .credentials(c)
                .build()
        })
    {
        let zid_signer = zid.clone();
        all.push(Target {
            name: "zid",
            seeds: json_files("adapters/zid/tests/fixtures"),
            topics: vec!["order", "other"],
            source: Arc::new(zid),
            sign: Box::new(move |_, _| zid_signer.sign_for_test()),
        });
    }
    all.extend(email_targets());
    // The site is a constant URL, so the source always builds.
    if let Ok(woo) = woo {
        let woo_signer = woo.clone();
        all.push(Target {
            name: "woocommerce",
            seeds: json_files("adapters/woocommerce/tests/fixtures"),
            topics: vec![
                "order.created",
                "order.updated",
                "order.deleted",
                "order.restored",
                "customer.created",
                "customer.updated",
                "customer.deleted",
                "action.woocommerce_order_status_completed",
                "product.updated",
            ],
            source: Arc::new(woo),
            sign: Box::new(move |topic, body| woo_signer.sign_for_test(topic, body)),
        });
    }
    // Adobe Commerce webhooks and I/O Events: RSA signatures with a key pair made here (the
    // topic is inside the signed body, so the target names none).
    if let Ok(key) = aftercare_magento::TestSigner::generate(1024) {
        let commerce = aftercare_magento::CommerceWebhooks::builder(WOO_SITE)
            .public_key(key.public_pem())
            .build();
        let io = aftercare_magento::IoEvents::builder(WOO_SITE, "4e2b7c1d9a8f4e0b8c6d5a4b3c2d1e0f")
            .public_key(key.public_pem())
            .build();
        if let (Ok(commerce), Ok(io)) = (commerce, io) {
            let k = key.clone();
            all.push(Target {
                name: "magento",
                // The webhook bodies only: an RSA signature per input is slow in a debug
                // build, and the REST fixtures are not webhooks.
                seeds: files(
                    MAGENTO_FIXTURES,
                    &[
                        "webhook_order_save_after.json",
                        "webhook_track_save_after.json",
                        "webhook_customer_save_after.json",
                    ],
                ),
                topics: vec![""],
                source: Arc::new(commerce),
                sign: Box::new(move |_, body| {
                    aftercare_magento::CommerceWebhooks::sign_with(&k, body)
                }),
            });
            all.push(Target {
                name: "magento-io-events",
                seeds: files(MAGENTO_FIXTURES, &["io_event_track_save_after.json"]),
                topics: vec![""],
                source: Arc::new(io),
                sign: Box::new(move |_, body| aftercare_magento::IoEvents::sign_with(&key, body)),
            });
        }
    }
    all
}

/// The email providers' sources: SendGrid's events (ECDSA-signed over the mutated bytes)
/// and Inbound Parse (Basic credentials, so every mutation reaches the multipart decoder);
/// Mailgun and SES, whose signatures sit inside the body, run their verify on the mutated
/// bytes and their decoders on them as if stored.
fn email_targets() -> Vec<Target> {
    use base64::Engine as _;
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::EncodePublicKey as _;
    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&[7; 32])
        && let Ok(der) = key.verifying_key().to_public_key_der()
        && let Ok(public) = aftercare_sendgrid::EventWebhookKey::parse(&B64.encode(der.as_bytes()))
    {
        out.push(Target {
            name: "sendgrid-events",
            seeds: vec![
                b"[{\"email\":\"hello@world.com\",\"event\":\"dropped\",\"reason\":\"Bounced Address\",\"sg_event_id\":\"ZHJvcC0x\",\"sg_message_id\":\"LRzXl_NHStOGhQ4kofSm_A.filter\",\"timestamp\":1600112492}]\r\n".to_vec(),
                br#"[{"email":"a@example.com","timestamp":1700000001,"event":"bounce","type":"blocked","reason":"421","sg_event_id":"e2","sg_message_id":"m2.f","aftercare_key":"k"}]"#.to_vec(),
            ],
            topics: vec![""],
            source: Arc::new(aftercare_sendgrid::SendGridEvents::new(public)),
            sign: Box::new(move |_, body| {
                let ts = Utc::now().timestamp().to_string();
                let mut msg = ts.clone().into_bytes();
                msg.extend_from_slice(body);
                let sig: p256::ecdsa::Signature = key.sign(&msg);
                RawHeaders::from_pairs([
                    (aftercare_sendgrid::events::SIGNATURE_HEADER, B64.encode(sig.to_der().as_bytes())),
                    (aftercare_sendgrid::events::TIMESTAMP_HEADER, ts),
                ])
            }),
        });
    }
    out.push(Target {
        name: "sendgrid-inbound",
        seeds: vec![b"--xYzZY\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\nLayla <layla@example.com>\r\n--xYzZY\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n9\r\n\r\nOn Sun, 7 Dec 2026, Shop <s@x.com> wrote:\r\n> 0 1 2\r\n--xYzZY\r\nContent-Disposition: form-data; name=\"envelope\"\r\n\r\n{\"to\":[\"r@p.x\"],\"from\":\"layla@example.com\"}\r\n--xYzZY--\r\n".to_vec()],
        topics: vec![""],
        source: Arc::new(aftercare_sendgrid::SendGridInbound::new("sendgrid", Secret::from(SECRET))),
        sign: Box::new(move |_, _| {
            RawHeaders::from_pairs([
                ("Authorization", format!("Basic {}", B64.encode(format!("sendgrid:{SECRET}")))),
                ("Content-Type", "multipart/form-data; boundary=xYzZY".to_owned()),
            ])
        }),
    });
    if let (Ok(events), Ok(inbound)) = (
        aftercare_mailgun::MailgunEvents::new(Secret::from(SECRET)),
        aftercare_mailgun::MailgunInbound::new(Secret::from(SECRET)),
    ) {
        // Signed now: the timestamp is inside the window when the run starts.
        let now = Utc::now().timestamp().to_string();
        let sig = aftercare_mailgun::sign(&Secret::from(SECRET), &now, "tok");
        out.push(Target {
            name: "mailgun-events",
            seeds: vec![format!(r#"{{"signature":{{"timestamp":"{now}","token":"tok","signature":"{sig}"}},"event-data":{{"event":"failed","severity":"permanent","reason":"bounce","recipient":"a@b.c","timestamp":1700000000.5,"user-variables":{{"aftercare_key":"k"}},"delivery-status":{{"code":550,"message":"no"}},"message":{{"headers":{{"message-id":"m@x"}}}}}}}}"#).into_bytes()],
            topics: vec![""],
            source: Arc::new(events),
            sign: Box::new(|_, _| RawHeaders::new()),
        });
        out.push(Target {
            name: "mailgun-inbound",
            seeds: vec![format!("sender=a%40b.c&recipient=r%40m.x&body-plain=10%0D%0A%0D%0AOn+x+wrote%3A%0D%0A%3E+0&timestamp={now}&token=tok&signature={sig}").into_bytes()],
            topics: vec![""],
            source: Arc::new(inbound),
            sign: Box::new(|_, _| {
                RawHeaders::from_pairs([("Content-Type", "application/x-www-form-urlencoded")])
            }),
        });
    }
    // Postmark: Basic credentials, so every mutation reaches the JSON decoders.
    if let (Ok(events), Ok(inbound)) = (
        aftercare_postmark::PostmarkEvents::new("postmark", Secret::from(SECRET)),
        aftercare_postmark::PostmarkInbound::new("postmark", Secret::from(SECRET)),
    ) {
        let auth = move |_: &str, _: &[u8]| {
            RawHeaders::from_pairs([(
                "Authorization",
                format!("Basic {}", B64.encode(format!("postmark:{SECRET}"))),
            )])
        };
        out.push(Target {
            name: "postmark-events",
            seeds: vec![
                br#"{"RecordType":"Bounce","Type":"HardBounce","TypeCode":1,"MessageID":"883953f4","Email":"john@example.com","BouncedAt":"2019-11-05T16:33:54.9070259Z","Inactive":true,"Metadata":{"aftercare_key":"k"}}"#.to_vec(),
                br#"{"RecordType":"Delivery","MessageID":"883953f4","Recipient":"john@example.com","DeliveredAt":"2019-11-05T16:33:54Z","Details":"ok"}"#.to_vec(),
                br#"{"RecordType":"SubscriptionChange","MessageID":"0","Recipient":"a@b.c","ChangedAt":"2020-02-01T10:53:34Z","SuppressSending":true}"#.to_vec(),
            ],
            topics: vec![""],
            source: Arc::new(events),
            sign: Box::new(auth),
        });
        out.push(Target {
            name: "postmark-inbound",
            seeds: vec![r#"{"From":"layla@example.com","FromFull":{"Email":"layla@example.com","Name":"L"},"OriginalRecipient":"x+inv1@inbound.postmarkapp.com","Subject":"Re: x","MessageID":"73e6d360","TextBody":"٩\r\n\r\nOn Sun, Shop wrote:\r\n> 0 1 2","StrippedTextReply":"","Headers":[{"Name":"Message-ID","Value":"<a@b>"}]}"#.as_bytes().to_vec()],
            topics: vec![""],
            source: Arc::new(inbound),
            sign: Box::new(auth),
        });
    }
    let ses_event = r#"{"eventType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"r@example.com","diagnosticCode":"550"}],"timestamp":"2026-12-07T02:00:00Z"},"mail":{"timestamp":"2026-12-07T01:59:59Z","messageId":"m1","destination":["r@example.com"],"tags":{"aftercare_key":["k"]}}}"#;
    let cert_url = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-x.pem";
    let mut envelope = serde_json::json!({
        "Type": "Notification", "MessageId": "22b80b92", "TopicArn": "arn:aws:sns:us-west-2:123456789012:ses",
        "Message": ses_event, "Timestamp": Utc::now().to_rfc3339(), "SignatureVersion": "2",
        "SigningCertURL": cert_url
    });
    // Signed with the SES adapter's test key, whose certificate is pinned below.
    if let (Ok(key), Some(text)) = (
        <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_pem(include_str!(
            "../../adapters/ses/tests/fixtures/test-signing-key.pem"
        )),
        aftercare_ses::string_to_sign(&envelope),
    ) {
        use sha2::Digest as _;
        if let Ok(sig) = key.sign(
            rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            &sha2::Sha256::digest(text.as_bytes()),
        ) {
            envelope["Signature"] = serde_json::json!(B64.encode(sig));
        }
    }
    let certs = aftercare_ses::SnsCertificates::new().pinned_only();
    let _ = certs.pin(
        cert_url,
        include_str!("../../adapters/ses/tests/fixtures/test-signing-cert.pem"),
    );
    out.push(Target {
        name: "ses-sns",
        seeds: vec![envelope.to_string().into_bytes()],
        topics: vec![""],
        source: Arc::new(aftercare_ses::SesEvents::new(
            Arc::new(certs),
            vec!["arn:aws:sns:us-west-2:123456789012:ses".into()],
        )),
        sign: Box::new(|_, _| RawHeaders::new()),
    });
    out
}

/// Twilio's form posts: an inbound SMS, an inbound WhatsApp message, status callbacks
/// (parameters as Twilio's "Messaging webhooks" page lists them).
fn twilio_form_seeds() -> Vec<Vec<u8>> {
    [
        "ToCountry=US&ToState=CA&SmsMessageSid=SM1a2b&NumMedia=0&ToCity=&FromZip=94105&SmsSid=SM1a2b&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=9+great+service&FromCountry=US&To=%2B15557654321&ToZip=&NumSegments=1&MessageSid=SM1a2b&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B15551234567&ApiVersion=2010-04-01",
        "MessageSid=SM1a2b&SmsSid=SM1a2b&AccountSid=AC0123456789abcdef0123456789abcdef&From=whatsapp%3A%2B15551234567&To=whatsapp%3A%2B15557654321&Body=%D9%85%D8%B1%D8%AD%D8%A8%D8%A7&NumMedia=0&ProfileName=Sara&WaId=15551234567",
        "SmsSid=SM1a2b&SmsStatus=delivered&MessageStatus=delivered&To=%2B15551234567&MessageSid=SM1a2b&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B15557654321&ApiVersion=2010-04-01",
        "MessageSid=SM1a2b&MessageStatus=undelivered&ErrorCode=30003&AccountSid=AC0123456789abcdef0123456789abcdef&To=%2B15551234567&From=%2B15557654321",
        "MessageSid=SM1a2b&MessageStatus=failed&ErrorCode=63016&ChannelToAddress=%2B1555&AccountSid=AC0123456789abcdef0123456789abcdef",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

/// WhatsApp Cloud API `whatsapp_business_account` webhooks (Meta's webhook reference:
/// messages of each type, statuses).
fn whatsapp_seeds() -> Vec<Vec<u8>> {
    let wrap = |value: serde_json::Value| {
        serde_json::json!({
            "object": "whatsapp_business_account",
            "entry": [{ "id": "102290129340398", "changes": [{ "value": value, "field": "messages" }] }]
        })
        .to_string()
        .into_bytes()
    };
    let meta = serde_json::json!({ "display_phone_number": "15550783881", "phone_number_id": "106540352242922" });
    vec![
        wrap(serde_json::json!({
            "messaging_product": "whatsapp", "metadata": meta,
            "contacts": [{ "profile": { "name": "Sheena Nelson" }, "wa_id": "16505551234" }],
            "messages": [{ "from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", "timestamp": "1749416383", "type": "text", "text": { "body": "9" } }]
        })),
        wrap(serde_json::json!({
            "messaging_product": "whatsapp", "metadata": meta,
            "contacts": [{ "profile": { "name": "Sheena Nelson" }, "wa_id": "16505551234" }],
            "messages": [{ "context": { "from": "15550783881", "id": "wamid.X" }, "from": "16505551234", "id": "wamid.Y", "timestamp": "1749416383", "type": "button", "button": { "payload": "STOP", "text": "Stop" } }]
        })),
        wrap(serde_json::json!({
            "messaging_product": "whatsapp", "metadata": meta,
            "statuses": [{ "id": "wamid.Z", "status": "failed", "timestamp": "1750263773", "recipient_id": "16505551234",
                "errors": [{ "code": 131026, "title": "Message undeliverable", "message": "Message undeliverable", "error_data": { "details": "x" } }] }]
        })),
        wrap(serde_json::json!({
            "messaging_product": "whatsapp", "metadata": meta,
            "statuses": [{ "id": "wamid.Z", "status": "delivered", "timestamp": "1750263773", "recipient_id": "16505551234",
                "conversation": { "id": "c1", "origin": { "type": "utility" } }, "pricing": { "billable": true, "pricing_model": "PMP", "category": "utility" } }]
        })),
    ]
}

/// Aftercare's own events, as `schemas/platform-event.json` describes them.
fn native_seeds() -> Vec<Vec<u8>> {
    use aftercare::model::{Order, PlatformEvent, Shipment};
    let order = Order::new("820982911946154508", "#1001");
    let shipment = Shipment::new(
        "1",
        "820982911946154508",
        aftercare::model::ShipmentStatus::InTransit,
    );
    let events = [
        PlatformEvent::OrderCreated {
            order: order.clone(),
        },
        PlatformEvent::OrderCancelled { order },
        PlatformEvent::ShipmentUpdated { shipment },
        PlatformEvent::ShopRedactRequested {
            shop: "demo".into(),
        },
        PlatformEvent::CustomerRedactRequested {
            shop: "demo".into(),
            customer_id: "1".into(),
            email: Some("a@example.com".into()),
            phone: None,
            orders: vec!["1".into()],
        },
    ];
    let mut out: Vec<Vec<u8>> = events
        .iter()
        .filter_map(|e| serde_json::to_vec(e).ok())
        .collect();
    if let Ok(all) = serde_json::to_vec(&events) {
        out.push(all);
    }
    out
}

/// Tokens that break parsers: numbers out of range, floats where ids go, escapes, deep
/// nesting, form separators, invalid UTF-8.
const TOKENS: &[&[u8]] = &[
    b"null",
    b"true",
    b"-1",
    b"0",
    b"1.5",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"9007199254740993",
    b"\"\"",
    b"\"\\u0000\"",
    b"\"\\ud800\"",
    b"{}",
    b"[]",
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    b"\"gid://shopify/Order/1\"",
    b"\"2026-13-45T99:99:99Z\"",
    b"&",
    b"=",
    b"%",
    b"%ZZ",
    b"%ff%fe",
    b"+",
    b"\xff\xfe",
    b"\xc3\x28",
    b",",
    b":",
    b"\"",
];

/// One mutation of `input`, with material from `other`.
fn mutate(rng: &mut StdRng, input: &mut Vec<u8>, other: &[u8]) {
    let len = input.len();
    match rng.gen_range(0..9) {
        0 if len > 0 => {
            let i = rng.gen_range(0..len);
            input[i] ^= 1 << rng.gen_range(0..8);
        }
        1 if len > 0 => {
            let i = rng.gen_range(0..len);
            input[i] = rng.r#gen();
        }
        2 => {
            let i = rng.gen_range(0..=len);
            let n = rng.gen_range(1..8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.r#gen()).collect();
            input.splice(i..i, bytes);
        }
        3 if len > 0 => {
            let a = rng.gen_range(0..len);
            let b = (a + rng.gen_range(1..64)).min(len);
            input.drain(a..b);
        }
        4 if len > 0 => {
            let a = rng.gen_range(0..len);
            let b = (a + rng.gen_range(1..64)).min(len);
            let copy = input[a..b].to_vec();
            let at = rng.gen_range(0..=input.len());
            input.splice(at..at, copy);
        }
        5 if !other.is_empty() => {
            // Splice: our head, the other's tail.
            let a = rng.gen_range(0..=len);
            let b = rng.gen_range(0..other.len());
            input.truncate(a);
            input.extend_from_slice(&other[b..]);
        }
        6 if len > 0 => {
            input.truncate(rng.gen_range(0..len));
        }
        _ => {
            // Replace a value-ish run (after a `:` or `=`, up to the next separator) by a
            // token, or insert the token anywhere.
            let token = TOKENS[rng.gen_range(0..TOKENS.len())];
            let starts: Vec<usize> = input
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b':' || **b == b'=')
                .map(|(i, _)| i + 1)
                .collect();
            if let Some(&s) = (!starts.is_empty()).then(|| &starts[rng.gen_range(0..starts.len())])
            {
                let e = input[s..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']' | b'&'))
                    .map_or(input.len(), |p| s + p);
                input.splice(s..e, token.iter().copied());
            } else {
                let i = rng.gen_range(0..=len);
                input.splice(i..i, token.iter().copied());
            }
        }
    }
}

fn entry(source: &str, verified: Option<VerifiedWebhook>, topic: &str, body: &[u8]) -> InboxEntry {
    let now = Utc::now();
    let (dedupe_key, topic, shop, occurred_at, meta) = match verified {
        Some(v) => (v.dedupe_key, v.topic, v.shop, v.occurred_at, v.meta),
        None => (
            "fuzz".to_owned(),
            (!topic.is_empty()).then(|| topic.to_owned()),
            Some("demo.myshopify.com".to_owned()),
            None,
            Default::default(),
        ),
    };
    {
        let mut entry = InboxEntry::new(1, source.to_owned(), dedupe_key, body.to_vec(), now);
        entry.topic = topic;
        entry.shop = shop;
        entry.occurred_at = occurred_at;
        entry.meta = meta;
        entry.attempts = 1;
        entry.next_attempt_at = now;
        entry
    }
}

/// Runs one input through the target: signed → verify → decode; and decode of the raw
/// bytes as if stored. Returns (verified, decoded into events).
fn exercise(t: &Target, topic: &str, body: &[u8]) -> (bool, bool) {
    let headers = (t.sign)(topic, body);
    let req = WebhookRequest::new(&headers, body, Utc::now());
    let mut verified = false;
    let mut decoded = false;
    if let Ok(v) = t.source.verify(&req) {
        verified = true;
        decoded |= t
            .source
            .decode(&entry(t.name, Some(v), topic, body))
            .is_ok_and(|e| !e.is_empty());
    }
    decoded |= t
        .source
        .decode(&entry(t.name, None, topic, body))
        .is_ok_and(|e| !e.is_empty());
    (verified, decoded)
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `target` for `budget`, from `seed`; findings are written under `out`.
pub fn run(target: &Target, budget: Duration, seed: u64, out: &Path) -> Outcome {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut outcome = Outcome::default();
    if target.seeds.is_empty() {
        return outcome;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{location}")));
    }));
    let start = Instant::now();
    // The seeds as they are first: each must go through without a panic too.
    let mut queue: Vec<Vec<u8>> = target.seeds.clone();
    while start.elapsed() < budget {
        let topic = target.topics[rng.gen_range(0..target.topics.len())];
        let input = if let Some(seed) = queue.pop() {
            seed
        } else {
            let mut input = target.seeds[rng.gen_range(0..target.seeds.len())].clone();
            let other = &target.seeds[rng.gen_range(0..target.seeds.len())];
            for _ in 0..rng.gen_range(1..6) {
                mutate(&mut rng, &mut input, other);
            }
            input
        };
        outcome.iterations += 1;
        match catch_unwind(AssertUnwindSafe(|| exercise(target, topic, &input))) {
            Ok((v, d)) => {
                outcome.verified += u64::from(v);
                outcome.decoded += u64::from(d);
            }
            Err(_) => {
                let msg = LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| "panic".to_owned());
                let _ = std::fs::create_dir_all(out);
                let path = out.join(format!("{}-{}.bin", target.name, outcome.findings.len()));
                let _ = std::fs::write(&path, &input);
                let _ = std::fs::write(
                    path.with_extension("txt"),
                    format!("topic: {topic}\n{msg}\n"),
                );
                outcome.findings.push((msg, path));
            }
        }
    }
    std::panic::set_hook(previous);
    outcome
}

/// Where findings go: `target/fuzz/findings`.
pub fn findings_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("fuzz")
        .join("findings")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The mutator changes its input, stays in bounds and eventually breaks every seed.
    #[test]
    fn mutations_change_inputs() {
        let mut rng = StdRng::seed_from_u64(7);
        let seed = br#"{"id":1,"name":"x"}"#.to_vec();
        let mut changed = 0;
        for _ in 0..200 {
            let mut input = seed.clone();
            mutate(&mut rng, &mut input, b"&a=b");
            changed += u32::from(input != seed);
        }
        assert!(changed > 150, "{changed}");
    }

    /// A short run of every target: seeds found, inputs verified and decoded, no panic.
    #[test]
    fn every_target_runs_without_findings() {
        let out = findings_dir();
        for t in targets() {
            assert!(!t.seeds.is_empty(), "{}: no seeds", t.name);
            let o = run(&t, Duration::from_millis(300), 1, &out);
            assert!(o.iterations > t.seeds.len() as u64, "{}: {o:?}", t.name);
            assert!(o.verified > 0 && o.decoded > 0, "{}: {o:?}", t.name);
            assert!(o.findings.is_empty(), "{}: {:?}", t.name, o.findings);
        }
    }
}
