//! The `feedback` binary: the demo runs on embedded defaults and exits 0 with the story and
//! the report; `report` prints the table from the demo's database and exports CSV and JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn run(args: &[&str], dir: &std::path::Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_feedback"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_demo_tells_the_story_and_the_report_exports() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(&["--bind", "127.0.0.1:0"], dir.path());
    assert!(ok, "the demo exits 0; stderr: {err}\nstdout: {out}");
    assert!(
        dir.path().join("aftercare-feedback-demo.db").exists(),
        "the default database is created in the working directory"
    );
    for expected in [
        // Answers in several scripts and ways.
        "sms ← reply “٩ شكراً”: score 9",
        "whatsapp ← reply “ก็ดีนะ”: no score",
        "whatsapp ← reply “แปด”: score 8",
        "whatsapp ← reply “๑๐ ชอบมาก”: score 10",
        "whatsapp ← reply “tres, la cafetera llegó rota”: score 3",
        "survey page ← GET ?score=5: HTTP 200 OK, recorded: false",
        "survey page ← POST score=5: HTTP 200 OK",
        "survey page ← POST score=2: HTTP 200 OK",
        // Follow-ups.
        "helpdesk ← signed webhook verified: survey.detractor",
        "tagged unhappy-customer",
        "support alerts: 2, review requests: 1, reminders: 1, re-asks: 1",
        // The detractors' tickets in the sandbox helpdesk, with the order's facts; the
        // second message of the same customer is a note on the same ticket.
        "helpdesk (sandbox) ← ticket #1 opened: “CSAT 2/5 on order #1002” for ayse.yilmaz@example.com.tr, tags detractor, late_delivery",
        "helpdesk (sandbox) ← ticket #2 opened: “NPS 3/10 on order #1005”",
        "helpdesk (sandbox) ← note on ticket #2: Later reply: y la caja venía abierta",
        "whatsapp ← reply “y la caja venía abierta”: no score",
        "helpdesk (sandbox): 2 ticket(s)",
        "Delivery: 2 day(s) late (estimated 2026-03-16, delivered 2026-03-18)",
        "not surveyed: the customer was surveyed on 2026-04-01 (90-day cool-down)",
        // The report.
        "Invitations sent: 7   answers: 6   response rate: 85.7%",
        "Bought again after the survey: respondents 17% (1/6), non-respondents 0% (0/1)",
        // NPS: 9, 8, 3, 10 → 50 − 25 = 25; CSAT: 2, 5 → 50%.
        "overall                               25.0 ± 81.3 (n=4)       50.0% ± 69.3 (n=2)",
        "carrier: Correios",
        "lateness: 1-2 days late",
        "product: Barista Espresso Machine",
        "/dashboard  (sign in with the key",
        // The simulated history and the retention report (deterministic seed).
        "backfilled 556 orders of 360 customers over 8 months (seed 18)",
        "── Retention",
        "repeat rate after a bad first delivery, by service recovery:",
        "Customers with a bad first delivery who got a recovery action vs those who did not",
        "Customers whose first delivery was 3+ days late re-ordered within 90 days less often than customers whose first delivery was on time",
        "/dashboard/retention",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // Each invitation and answer is told once.
    assert_eq!(out.matches("survey page ← POST").count(), 2);

    // Service recovery: one apology per order with a signal. The story's signals are the
    // es-MX failed attempt (#1005) and every detractor's answer, which the follow-up passes
    // on (the `survey.detractor` webhooks name their orders).
    let mut signalled: std::collections::BTreeSet<String> = out
        .lines()
        .filter_map(|l| l.split("survey.detractor for order ").nth(1))
        .filter_map(|r| r.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(!signalled.is_empty(), "the story has detractors:\n{out}");
    signalled.insert("#1005".into());
    let apologies: Vec<&str> = out
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("recovery: "))
        .collect();
    for n in &signalled {
        assert!(
            apologies
                .iter()
                .any(|l| l.contains(&format!(" order {n} ("))),
            "no apology for {n}: {apologies:#?}"
        );
    }
    assert_eq!(apologies.len(), signalled.len(), "{apologies:#?}");
    // A code for each customer with a marketing opt-in, made once in the sandbox shop.
    let codes: std::collections::BTreeSet<&str> = apologies
        .iter()
        .filter_map(|l| l.split("with the code ").nth(1))
        .filter_map(|r| r.split_whitespace().next())
        .collect();
    assert!(codes.iter().all(|c| c.starts_with("SORRY-")), "{codes:?}");
    assert_eq!(
        codes.len(),
        apologies
            .iter()
            .filter(|l| l.contains("with the code"))
            .count(),
        "one code per apology that offers one"
    );
    let made = format!("discount codes made in the sandbox shop: {}\n", codes.len());
    assert!(out.contains(&made), "missing {made:?} in:\n{out}");

    let (ok, table, err) = run(
        &[
            "report",
            "--db",
            "aftercare-feedback-demo.db",
            "--csv",
            "r.csv",
            "--json",
            "r.json",
        ],
        dir.path(),
    );
    assert!(ok, "report exits 0; stderr: {err}");
    assert!(table.contains("Invitations sent: 7   answers: 6   response rate: 85.7%"));
    let csv = std::fs::read_to_string(dir.path().join("r.csv")).unwrap();
    assert!(
        csv.starts_with(
            "group,key,responses,nps,nps_margin,csat,csat_margin,ces,ces_margin\noverall,,6,25.0,81.3,50.0,69.3,,\n"
        ),
        "{csv}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(json["responses"], 6);
    let retention = std::fs::read_to_string(dir.path().join("r.retention.csv")).unwrap();
    assert!(
        retention.starts_with("section,key,value,n,successes,rate,low,high\nrepeat,,,"),
        "{retention}"
    );
    assert!(
        retention.contains("\nlateness,,3+ days late,"),
        "{retention}"
    );
    assert!(retention.contains("\nrecovery,,recovered,"), "{retention}");
    assert_eq!(json["invitations"], 7);
    assert_eq!(
        json["nps_distribution"],
        serde_json::json!([0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1])
    );
    assert_eq!(
        json["csat_distribution"],
        serde_json::json!([0, 1, 0, 0, 1])
    );

    // A database that does not exist is an error with a hint, not an empty report.
    let (ok, _, err) = run(&["report", "--db", "missing.db"], dir.path());
    assert!(!ok);
    assert!(err.contains("run the demo first"), "{err}");
}

/// The story with the sandbox playing WooCommerce or BigCommerce: neither reports carrier
/// events, so no survey follows a delivery; every invitation is the after-shipping fallback,
/// and the answers, follow-ups and report are the same as on Shopify.
fn the_demo_runs_on(platform: &str, title: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(
        &["--platform", platform, "--bind", "127.0.0.1:0"],
        dir.path(),
    );
    assert!(ok, "the demo exits 0; stderr: {err}\nstdout: {out}");
    for expected in [
        format!("sandbox shop on {title}"),
        format!(
            "{title} reports no carrier events: no survey after delivery; each survey is the fallback invitation, 7 days after shipping."
        ),
        format!("carrier: delivered, but {title} sends no delivery event"),
        // The invitations, in the customers' languages.
        "مرحبًا \u{2068}نورة\u{2069}!".into(),
        "Subject: Sandbox Coffee Co. siparişinizi nasıl buldunuz?".into(),
        "สวัสดีคุณสมชาย".into(),
        "Subject: Como foi sua compra em Sandbox Coffee Co.?".into(),
        "¡Hola, María!".into(),
        "Hi again, Emily!".into(),
        // The answers.
        "sms ← reply “٩ شكراً”: score 9".into(),
        "whatsapp ← reply “แปด”: score 8".into(),
        "survey page ← POST score=2: HTTP 200 OK".into(),
        "survey page ← POST score=5: HTTP 200 OK".into(),
        "whatsapp ← reply “tres, la cafetera llegó rota”: score 3".into(),
        "whatsapp ← reply “๑๐ ชอบมาก”: score 10".into(),
        "helpdesk ← signed webhook verified: survey.detractor".into(),
        "support alerts: 2, review requests: 1, reminders: 1, re-asks: 1".into(),
        "helpdesk (sandbox) ← note on ticket #2: Later reply: y la caja venía abierta".into(),
        "helpdesk (sandbox): 2 ticket(s)".into(),
        "not surveyed: the customer was surveyed on 2026-04-03 (90-day cool-down)".into(),
        "Invitations sent: 7   answers: 6   response rate: 85.7%".into(),
        "overall                               25.0 ± 81.3 (n=4)       50.0% ± 69.3 (n=2)".into(),
        // No delivery was ever reported.
        "lateness: not delivered               25.0 ± 81.3 (n=4)       50.0% ± 69.3 (n=2)".into(),
    ] {
        assert!(out.contains(&expected), "missing {expected:?} in:\n{out}");
    }
    assert_eq!(
        out.matches("the fallback invitation went out").count(),
        7,
        "{out}"
    );
    assert!(!out.contains("the survey is due in 3 days"), "{out}");
    assert!(!out.contains("erased?"), "{out}");
    // Every webhook was accepted (the demo stops on any other answer than 200).
    assert!(!err.contains("webhook rejected"), "{err}");
}

#[test]
fn the_demo_runs_as_a_woocommerce_store() {
    the_demo_runs_on("woocommerce", "WooCommerce");
}

#[test]
fn the_demo_runs_as_a_bigcommerce_store() {
    the_demo_runs_on("bigcommerce", "BigCommerce");
}

#[test]
fn the_demo_runs_as_a_magento_store() {
    the_demo_runs_on("magento", "Adobe Commerce");
}

/// Quiet hours are on in the demo as in the `Stack` builder: no message reaches a customer
/// between 21:00 and 08:00 in their own zone (before, invitations went out at 03:05, 06:01
/// and 23:03 local time).
#[test]
fn the_demo_sends_nothing_to_customers_at_night() {
    use aftercare::model::ChannelKind;
    use aftercare::store::{Outbox, OutboxStatus};
    use chrono::Timelike as _;
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(&["--bind", "127.0.0.1:0"], dir.path());
    assert!(ok, "stderr: {err}\nstdout: {out}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sent = rt.block_on(async {
        let store =
            aftercare_sqlite::SqliteStore::open(dir.path().join("aftercare-feedback-demo.db"))
                .await
                .unwrap();
        let sent = store.outbox_in(OutboxStatus::Sent, 10_000).await.unwrap();
        store.close().await;
        sent
    });
    let mut checked = 0;
    let mut night = Vec::new();
    for e in sent {
        if e.message.channel == ChannelKind::Webhook {
            continue;
        }
        // Staff alerts carry no customer zone: they are quiet in the fallback zone (UTC).
        let zone: chrono_tz::Tz = e
            .message
            .meta
            .get("time_zone")
            .and_then(|z| z.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        let at = e
            .receipt
            .as_ref()
            .expect("a sent message has a receipt")
            .accepted_at;
        let local = at.with_timezone(&zone);
        checked += 1;
        if local.hour() >= 21 || local.hour() < 8 {
            night.push(format!("{} {} at {local}", e.key, zone.name()));
        }
    }
    assert!(checked >= 14, "only {checked} messages sent");
    assert!(night.is_empty(), "sent at night:\n{}", night.join("\n"));
}

/// With `--serve`, every survey link the demo prints at the end answers (none is 410
/// Gone): the survey window covers the story's clock.
#[test]
fn the_links_printed_in_serve_mode_answer() {
    use std::io::{BufRead as _, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_feedback"))
        .args(["--serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let _guard = Kill(child);
    let mut links = Vec::new();
    let mut listing = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.starts_with("Serving the survey pages") {
            break;
        }
        if line.starts_with("Survey pages to try:") {
            listing = true;
            continue;
        }
        if listing {
            assert!(!line.contains(" closed "), "a closed link printed: {line}");
            links.push(line.split_whitespace().last().unwrap().to_owned());
        }
    }
    assert_eq!(links.len(), 7, "{links:?}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        for link in &links {
            let status = http.get(link).send().await.unwrap().status();
            assert_eq!(status, reqwest::StatusCode::OK, "{link}");
        }
    });
}
