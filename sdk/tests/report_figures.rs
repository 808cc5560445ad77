//! Report figures against a hand-computed fixture.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aftercare::model::{ChannelKind, OrderId, SurveyKind, SurveyResponse};
use aftercare::report::{Fact, Report, lateness_bucket};
use chrono::{DateTime, Utc};

fn resp(i: usize, kind: SurveyKind, score: u8, at: &str) -> SurveyResponse {
    SurveyResponse::new(
        format!("inv-{i}"),
        kind,
        OrderId::new(format!("{i}")),
        score,
        ChannelKind::Email.as_str(),
        at.parse().unwrap(),
    )
}

#[test]
fn hand_computed_fixture() {
    // 10 NPS answers: week of 2026-03-02 → 10, 9, 9, 8, 3 ; week of 2026-03-09 → 10, 7, 6, 2, 0.
    // Promoters 4 (10,9,9,10), passives 2 (8,7), detractors 4 (3,6,2,0): NPS = 40 − 40 = 0.
    // Variance = p + d − (p − d)² = 0.4 + 0.4 − 0 = 0.8; MoE = 1.96 × sqrt(0.8/10) × 100 = 55.4372...
    let nps = [
        (10, "2026-03-02T10:00:00Z"),
        (9, "2026-03-03T10:00:00Z"),
        (9, "2026-03-04T10:00:00Z"),
        (8, "2026-03-05T10:00:00Z"),
        (3, "2026-03-08T23:59:00Z"),
        (10, "2026-03-09T00:00:00Z"),
        (7, "2026-03-10T10:00:00Z"),
        (6, "2026-03-11T10:00:00Z"),
        (2, "2026-03-12T10:00:00Z"),
        (0, "2026-03-13T10:00:00Z"),
    ];
    let mut facts: Vec<Fact> = nps
        .iter()
        .enumerate()
        .map(|(i, (s, at))| {
            let mut f = Fact::new(resp(i, SurveyKind::Nps, *s, at));
            f.dims.insert(
                "carrier".into(),
                if i % 2 == 0 {
                    "UPS".into()
                } else {
                    "DHL".into()
                },
            );
            f
        })
        .collect();
    // 4 CSAT answers: 5, 4, 2, 1 → 2 satisfied of 4 = 50%; MoE = 1.96 × sqrt(.25/4) × 100 = 49.0; mean 3.
    for (j, s) in [5u8, 4, 2, 1].iter().enumerate() {
        facts.push(Fact::new(resp(
            100 + j,
            SurveyKind::Csat,
            *s,
            "2026-03-10T12:00:00Z",
        )));
    }
    let r = Report::build(&facts, 40);
    assert_eq!(r.responses, 14);
    assert!(
        (r.response_rate - 35.0).abs() < 1e-9,
        "14 of 40 invitations = 35%"
    );
    let n = r.overall.nps.as_ref().unwrap();
    assert_eq!((n.promoters, n.passives, n.detractors), (4, 2, 4));
    assert!(n.nps.abs() < 1e-9);
    assert!(
        (n.margin_of_error - 55.437_3).abs() < 1e-3,
        "{}",
        n.margin_of_error
    );
    let c = r.overall.csat.as_ref().unwrap();
    assert!((c.csat - 50.0).abs() < 1e-9);
    assert!((c.margin_of_error - 49.0).abs() < 1e-9);
    assert!((c.mean - 3.0).abs() < 1e-9);
    // Weekly: ISO weeks start on Monday; 2026-03-08 is a Sunday, 2026-03-09 a Monday.
    let w1 = r.weekly["2026-03-02"].nps.as_ref().unwrap();
    assert_eq!((w1.promoters, w1.passives, w1.detractors), (3, 1, 1));
    assert!((w1.nps - 40.0).abs() < 1e-9);
    let w2 = r.weekly["2026-03-09"].nps.as_ref().unwrap();
    assert!(
        (w2.nps - (-40.0)).abs() < 1e-9,
        "1 promoter, 1 passive, 3 detractors"
    );
    // By carrier: even indices UPS = 10, 9, 3, 7, 2 → P2 D2 → 0; odd DHL = 9, 8, 10, 6, 0 → P2 D2 → 0.
    let ups = r.breakdowns["carrier"]["UPS"].nps.as_ref().unwrap();
    assert_eq!((ups.promoters, ups.detractors, ups.responses), (2, 2, 5));
}

#[test]
fn lateness_buckets() {
    let t = |s: &str| Some(s.parse::<DateTime<Utc>>().unwrap());
    assert_eq!(
        lateness_bucket(t("2026-03-05T12:00:00Z"), t("2026-03-05T20:00:00Z")),
        "on time"
    );
    assert_eq!(
        lateness_bucket(t("2026-03-05T12:00:00Z"), t("2026-03-03T10:00:00Z")),
        "on time"
    );
    assert_eq!(
        lateness_bucket(t("2026-03-05T12:00:00Z"), t("2026-03-07T10:00:00Z")),
        "1-2 days late"
    );
    assert_eq!(
        lateness_bucket(t("2026-03-05T12:00:00Z"), t("2026-03-09T10:00:00Z")),
        "3+ days late"
    );
    assert_eq!(lateness_bucket(None, t("2026-03-09T10:00:00Z")), "unknown");
}

#[test]
fn repeat_purchase_of_respondents_and_non_respondents() {
    use aftercare::report::RepeatPurchase;
    use std::collections::HashMap;
    let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let inv =
        |c: &str, at: &str, o: &str, answered: bool| (c.to_owned(), t(at), o.to_owned(), answered);
    let invited = vec![
        inv("a", "2026-03-01T00:00:00Z", "a1", true), // ordered again after: repeat
        inv("b", "2026-03-01T00:00:00Z", "b1", true), // only an older order: no
        inv("c", "2026-03-01T00:00:00Z", "c1", false), // ordered again: repeat
        inv("d", "2026-03-01T00:00:00Z", "d1", false), // the surveyed order only: no
        inv("e", "2026-03-05T00:00:00Z", "e2", false), // invited twice: counts once, first invitation,
        inv("e", "2026-03-02T00:00:00Z", "e1", true),  // answered → a respondent
    ];
    let o = |id: &str, at: &str| (id.to_owned(), t(at));
    let orders = HashMap::from([
        (
            "a".to_owned(),
            vec![
                o("a1", "2026-02-25T00:00:00Z"),
                o("a2", "2026-03-20T00:00:00Z"),
            ],
        ),
        (
            "b".to_owned(),
            vec![
                o("b0", "2026-01-10T00:00:00Z"),
                o("b1", "2026-02-25T00:00:00Z"),
            ],
        ),
        ("c".to_owned(), vec![o("c2", "2026-03-02T00:00:00Z")]),
        ("d".to_owned(), vec![o("d1", "2026-03-09T00:00:00Z")]),
        (
            "e".to_owned(),
            vec![
                o("e1", "2026-02-28T00:00:00Z"),
                o("e2", "2026-03-04T00:00:00Z"),
            ],
        ),
    ]);
    let r = RepeatPurchase::count(&invited, &orders);
    // Respondents a, b, e: a and e (e2 after e's first invitation) bought again → 2 of 3.
    assert_eq!((r.respondents, r.respondents_repeat), (3, 2));
    // Non-respondents c, d: c bought again → 1 of 2.
    assert_eq!((r.non_respondents, r.non_respondents_repeat), (2, 1));
    assert!((r.respondents_rate().unwrap() - 66.666_666).abs() < 1e-3);
    assert_eq!(r.non_respondents_rate(), Some(50.0));
    assert_eq!(RepeatPurchase::count(&[], &orders).respondents_rate(), None);
}

/// CES is reported like CSAT: 6 answers 7, 6, 5, 5, 3, 1 → easy (5-7) 4 of 6 = 66.7 %;
/// MoE = 1.96 × sqrt(0.6667 × 0.3333 / 6) × 100 = 37.72; mean 27/6 = 4.5; distribution per
/// score; in the CSV's last two columns. (Before, CES answers were counted in `responses` and
/// reported nowhere.)
#[test]
fn ces_hand_computed() {
    let facts: Vec<Fact> = [7u8, 6, 5, 5, 3, 1]
        .iter()
        .enumerate()
        .map(|(i, s)| Fact::new(resp(i, SurveyKind::Ces, *s, "2026-03-02T10:00:00Z")))
        .collect();
    let r = Report::build(&facts, 6);
    let ces = r.overall.ces.as_ref().expect("CES is reported");
    assert_eq!((ces.responses, ces.easy), (6, 4));
    assert!((ces.ces - 66.666_666).abs() < 1e-3, "{}", ces.ces);
    assert!(
        (ces.margin_of_error - 37.72).abs() < 0.01,
        "{}",
        ces.margin_of_error
    );
    assert!((ces.mean - 4.5).abs() < 1e-9);
    assert_eq!(r.ces_distribution, [1, 0, 1, 0, 2, 1, 1]);
    assert!(
        r.to_csv().contains("overall,,6,,,,,66.7,37.7\n"),
        "{}",
        r.to_csv()
    );
}

/// Comments are searchable (case-insensitive, beyond ASCII) and exported as CSV with
/// formulas neutralised.
#[test]
fn comments_search_and_export() {
    use aftercare::report::{comments_csv, search_comments};
    let mut a = resp(1, SurveyKind::Nps, 3, "2026-03-02T10:00:00Z");
    a.comment = Some("Kutu HASARLI geldi".into());
    let mut b = resp(2, SurveyKind::Csat, 2, "2026-03-03T10:00:00Z");
    b.comment = Some("=HYPERLINK(\"http://x\",\"late, again\")".into());
    let c = resp(3, SurveyKind::Nps, 9, "2026-03-04T10:00:00Z");
    let all = [a, b, c];
    assert_eq!(search_comments(&all, "kutu hasar").len(), 1);
    assert_eq!(search_comments(&all, "broken").len(), 0);
    let every = search_comments(&all, " ");
    assert_eq!(every.len(), 2, "only commented answers");
    assert_eq!(every[0].invitation_id, "inv-2", "newest first");
    let csv = comments_csv(&every);
    assert_eq!(
        csv,
        "answered_at,kind,score,order_id,via,comment\n\
         2026-03-03T10:00:00+00:00,csat,2,2,email,\"'=HYPERLINK(\"\"http://x\"\",\"\"late, again\"\")\"\n\
         2026-03-02T10:00:00+00:00,nps,3,1,email,Kutu HASARLI geldi\n"
    );
}
