//! Follow-up tickets in a support desk ([`Helpdesk`]): a detractor's answer, a late-delivery
//! complaint or a "help" reply opens **one ticket per shop and order**, with the score,
//! comment, order, products, carrier and lateness, the customer as requester in their
//! language; anything later about the same order (a second answer, a reply after the survey
//! closed) becomes an internal note on that ticket, never a new one.
//!
//! Idempotency, per incident (an answer, a complaint, a reply), across crashes:
//! 1. a ledger row (key `ticket:{incident}`) says the incident is in the desk: nothing to do;
//! 2. else the ticket is looked up — by the id remembered in a snapshot (kind
//!    [`TICKET_SNAPSHOT`]), else by its external id `aftercare-{shop}-{order}` at the desk;
//! 3. a ticket that already carries the incident's marker tag ([`marker_tag`]) got the
//!    incident before a crash: only the ledger row is written;
//! 4. else a note (with the marker tag, in the same request where the desk allows) is added,
//!    or, without a ticket, one is created (marker among its tags). A ticket the desk can no
//!    longer update (Zendesk `closed`) gets a new ticket with the same external id.
//!
//! A desk failure is an [`Error`] the inbox retries (`429`, `5xx`) or dead-letters (refused).
//!
//! A **late-delivery complaint** is a survey reply that reads like one ([`is_late_complaint`]:
//! "late", "still waiting", "never arrived", in the six languages) about an order that was
//! delivered after its first estimate, or is past it and not delivered:
//! [`TicketFlow::on_late_complaint`] opens the order's ticket with the lateness, or notes the
//! complaint on the ticket the order already has (also after the survey closed). Each reply
//! is one incident (`late:{invitation}:{time}`): the same reply processed twice is written
//! once, a second reply is a second note.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::clock::Clock;
use crate::flows::feedback::{FACTS_SNAPSHOT, SurveyFacts};
use crate::helpdesk::{
    Helpdesk, HelpdeskError, NewTicket, Note, OrderContext, Requester, Ticket, TicketStatus,
    marker_tag,
};
use crate::model::{
    ChannelKind, CustomerId, InboundMessage, Invitation, OrderId, ShopId, SurveyResponse,
};
use crate::store::{Decision, Ledger, LedgerEntry, Outbox, Snapshot, SnapshotStore, SurveyStore};

/// The snapshot kind remembering the desk's ticket id per external id.
pub const TICKET_SNAPSHOT: &str = "helpdesk-ticket";

/// Tags of tickets.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TicketSettings {
    /// On every ticket (default `aftercare`).
    pub tags: Vec<String>,
    /// On detractors' tickets (default `detractor`).
    pub detractor_tag: String,
    /// When the delivery was late (default `late_delivery`).
    pub late_tag: String,
    /// On "help" replies (default `help_request`).
    pub help_tag: String,
}

impl Default for TicketSettings {
    fn default() -> Self {
        Self {
            tags: vec!["aftercare".into()],
            detractor_tag: "detractor".into(),
            late_tag: "late_delivery".into(),
            help_tag: "help_request".into(),
        }
    }
}

/// What happened, for the ticket's text and tags.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IncidentKind {
    /// A detractor's survey answer.
    Detractor {
        /// `NPS`, `CSAT`, `CES`.
        survey: String,
        /// The score.
        score: u8,
        /// The best score of the scale.
        max: u8,
        /// The customer's comment.
        comment: Option<String>,
        /// How it was answered (`web`, `email_reply`...).
        via: String,
    },
    /// A complaint that the delivery was late.
    LateDelivery {
        /// What the customer wrote, if anything.
        text: Option<String>,
    },
    /// A "help" reply.
    Help {
        /// The reply.
        text: String,
        /// The channel it came on.
        channel: ChannelKind,
    },
    /// A reply after the survey closed (kept as a comment).
    Comment {
        /// The reply.
        text: String,
    },
    /// A later reply while the survey is open (a second answer, other text), about an
    /// order that has a ticket.
    Reply {
        /// The reply.
        text: String,
    },
    /// Service recovery's ticket: an early sign of a bad experience
    /// ([`RecoveryFlow`](crate::flows::recovery::RecoveryFlow)).
    Recovery {
        /// The signal (`exception`, `failed_attempt`, `delay`, `detractor`, `complaint`).
        signal: String,
    },
}

/// One incident for the desk.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Incident {
    /// Its idempotency key (`survey:{invitation}`, `comment:{invitation}:{time}`).
    pub key: String,
    /// The shop.
    pub shop: Option<ShopId>,
    /// The order.
    pub order: OrderContext,
    /// The customer.
    pub customer_id: Option<CustomerId>,
    /// The customer as the desk's requester.
    pub requester: Requester,
    /// What happened.
    pub kind: IncidentKind,
    /// When.
    pub at: DateTime<Utc>,
}

impl Incident {
    /// An incident about an order (no shop, no customer id).
    pub fn new(
        key: impl Into<String>,
        order: OrderContext,
        requester: Requester,
        kind: IncidentKind,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            key: key.into(),
            shop: None,
            order,
            customer_id: None,
            requester,
            kind,
            at,
        }
    }
}

/// What [`TicketFlow::report`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TicketOutcome {
    /// Opened this ticket.
    Opened(String),
    /// Added a note to this ticket.
    Noted(String),
    /// The incident was already in the desk (ticket id when known).
    AlreadyDone(Option<String>),
}

/// Opens and updates follow-up tickets (see the [module](self) documentation).
pub struct TicketFlow {
    desk: Arc<dyn Helpdesk>,
    ledger: Arc<dyn Ledger>,
    outbox: Arc<dyn Outbox>,
    surveys: Arc<dyn SurveyStore>,
    snapshots: Arc<dyn SnapshotStore>,
    clock: Arc<dyn Clock>,
    settings: TicketSettings,
}

impl std::fmt::Debug for TicketFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketFlow")
            .field("desk", &self.desk.name())
            .finish_non_exhaustive()
    }
}

impl TicketFlow {
    /// Tickets in `desk`, remembered in `store`.
    pub fn new<S>(desk: Arc<dyn Helpdesk>, store: Arc<S>, clock: Arc<dyn Clock>) -> Self
    where
        S: Ledger + Outbox + SurveyStore + SnapshotStore + 'static,
    {
        Self {
            desk,
            ledger: store.clone(),
            outbox: store.clone(),
            surveys: store.clone(),
            snapshots: store,
            clock,
            settings: TicketSettings::default(),
        }
    }

    /// Replaces the tag settings.
    pub fn settings(mut self, settings: TicketSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The external id of an order's ticket.
    pub fn external_id(shop: Option<&ShopId>, order: &str) -> String {
        match shop {
            Some(s) => format!("aftercare-{}-{order}", s.as_str()),
            None => format!("aftercare-{order}"),
        }
    }

    /// A detractor's answer: opens the order's ticket, or notes it on the open one.
    pub async fn on_detractor(&self, r: &SurveyResponse) -> Result<TicketOutcome, Error> {
        let Some(inv) = self.surveys.invitation(&r.invitation_id).await? else {
            return Ok(TicketOutcome::AlreadyDone(None));
        };
        let (requester, order) = self.context(&inv).await?;
        self.report(&Incident {
            key: format!("survey:{}", r.invitation_id),
            shop: inv.shop.clone(),
            order,
            customer_id: r.customer_id.clone(),
            requester,
            kind: IncidentKind::Detractor {
                survey: r.kind.as_str().to_uppercase(),
                score: r.score,
                max: *r.kind.range().end(),
                comment: r.comment.clone(),
                via: r.via.clone(),
            },
            at: r.answered_at,
        })
        .await
    }

    /// A reply after the survey closed, or a later reply while it is open: a note on the
    /// order's ticket when it has one (a ticket is not opened for a comment alone). Keyed
    /// by the reply's time.
    pub async fn on_comment(
        &self,
        inv: &Invitation,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<TicketOutcome>, Error> {
        let external = Self::external_id(inv.shop.as_ref(), inv.order_id.as_str());
        if self.locate(&external).await?.is_none() {
            return Ok(None);
        }
        let (requester, order) = self.context(inv).await?;
        self.report(&Incident {
            key: format!("comment:{}:{}", inv.id, at.timestamp_millis()),
            shop: inv.shop.clone(),
            order,
            customer_id: inv.customer_id.clone(),
            requester,
            kind: if at > inv.closes_at {
                IncidentKind::Comment {
                    text: text.to_owned(),
                }
            } else {
                IncidentKind::Reply {
                    text: text.to_owned(),
                }
            },
            at,
        })
        .await
        .map(Some)
    }

    /// A reply about an invitation's order that reads as a late-delivery complaint
    /// ([`is_late_complaint`]) while the order is late: opens the order's ticket, or notes
    /// the complaint on the one it has (open, solved or after the survey closed; a ticket
    /// the desk can no longer update gets a new one with the same external id). `None`
    /// when the text is no complaint or the order was not late (the caller goes on as with
    /// any reply).
    pub async fn on_late_complaint(
        &self,
        inv: &Invitation,
        msg: &InboundMessage,
    ) -> Result<Option<TicketOutcome>, Error> {
        if !is_late_complaint(&msg.text) {
            return Ok(None);
        }
        let (mut requester, order) = self.context(inv).await?;
        if !is_late(&order, self.clock.now()) {
            return Ok(None);
        }
        if requester.email.is_none() && requester.phone.is_none() {
            requester = Requester {
                locale: requester.locale,
                ..requester_for(msg.channel, &msg.from)
            };
        }
        self.report(&Incident {
            key: format!("late:{}:{}", inv.id, msg.received_at.timestamp_millis()),
            shop: inv.shop.clone(),
            order,
            customer_id: inv.customer_id.clone(),
            requester,
            kind: IncidentKind::LateDelivery {
                text: Some(msg.text.trim().to_owned()).filter(|t| !t.is_empty()),
            },
            at: msg.received_at,
        })
        .await
        .map(Some)
    }

    /// A "help" reply: the ticket of the order the customer last got a message about.
    pub async fn on_help(&self, msg: &InboundMessage) -> Result<Option<TicketOutcome>, Error> {
        let Some(last) = self
            .outbox
            .latest_sent_to(msg.channel, &msg.from, "")
            .await?
        else {
            return Ok(None);
        };
        let Some(order_id) = last.message.order_id.clone() else {
            return Ok(None);
        };
        let mut requester = requester_for(msg.channel, &msg.from);
        requester.locale = Some(last.message.locale.clone());
        let order = self
            .facts_for_order(&order_id, last.message.meta.get("survey_invitation"))
            .await?;
        self.report(&Incident {
            key: format!(
                "help:{}:{}:{}",
                msg.channel,
                crate::store::address_hash(&msg.from),
                msg.received_at.timestamp_millis()
            ),
            shop: last.message.shop.clone(),
            order,
            customer_id: last.message.customer_id.clone(),
            requester,
            kind: IncidentKind::Help {
                text: msg.text.clone(),
                channel: msg.channel,
            },
            at: msg.received_at,
        })
        .await
        .map(Some)
    }

    /// Puts one incident in the desk, once (see the [module](self) documentation).
    pub async fn report(&self, i: &Incident) -> Result<TicketOutcome, Error> {
        let key = format!("ticket:{}", i.key);
        if let Some(done) = self
            .ledger
            .ledger_for_key(&key)
            .await?
            .into_iter()
            .find(|e| e.decision == Decision::Sent)
        {
            return Ok(TicketOutcome::AlreadyDone(ticket_in(&done.reason)));
        }
        let external = Self::external_id(i.shop.as_ref(), &i.order.order_id);
        let marker = marker_tag(&i.key);
        let found = self.locate(&external).await?;
        if let Some(t) = &found {
            self.remember(i.shop.as_ref(), &external, &t.id).await?;
        }
        let mut tags = vec![marker.clone()];
        tags.extend(self.incident_tags(i));
        let outcome = match found {
            Some(t) if t.tags.contains(&marker) => TicketOutcome::AlreadyDone(Some(t.id)),
            Some(t) if t.status != TicketStatus::Closed => {
                match self
                    .desk
                    .add_note(&t, &Note::new(self.text(i), tags.clone()))
                    .await
                {
                    Ok(()) => TicketOutcome::Noted(t.id),
                    Err(HelpdeskError::Closed(_)) => self.open(i, &external, tags).await?,
                    Err(e) => return Err(e.into()),
                }
            }
            _ => self.open(i, &external, tags).await?,
        };
        let reason = match &outcome {
            TicketOutcome::Opened(id) => format!(
                "{}: opened ticket {id} for {}",
                self.desk.name(),
                describe(&i.kind)
            ),
            TicketOutcome::Noted(id) => format!(
                "{}: added {} to ticket {id}",
                self.desk.name(),
                describe(&i.kind)
            ),
            TicketOutcome::AlreadyDone(id) => format!(
                "{}: ticket {} already holds {} (done before a restart)",
                self.desk.name(),
                id.as_deref().unwrap_or("?"),
                describe(&i.kind)
            ),
        };
        let mut e = LedgerEntry::new(self.clock.now(), Decision::Sent, reason);
        e.key = Some(key);
        e.shop = i.shop.clone();
        e.order_id = Some(OrderId::new(i.order.order_id.clone()));
        e.customer_id = i.customer_id.clone();
        self.ledger.record(e).await?;
        Ok(outcome)
    }

    async fn open(
        &self,
        i: &Incident,
        external: &str,
        tags: Vec<String>,
    ) -> Result<TicketOutcome, Error> {
        let number = i.order.order_number.as_deref().unwrap_or(&i.order.order_id);
        let subject = match &i.kind {
            IncidentKind::Detractor {
                survey, score, max, ..
            } => format!("{survey} {score}/{max} on order {number}"),
            IncidentKind::LateDelivery { .. } => format!("Late delivery of order {number}"),
            IncidentKind::Help { .. } => format!("Help request about order {number}"),
            IncidentKind::Comment { .. } | IncidentKind::Reply { .. } => {
                format!("Customer comment on order {number}")
            }
            IncidentKind::Recovery { signal } => {
                format!("Service recovery ({signal}) for order {number}")
            }
        };
        let mut all = tags;
        all.extend(self.settings.tags.iter().cloned());
        let t = self
            .desk
            .create_ticket(&NewTicket {
                external_id: external.to_owned(),
                subject,
                body: self.text(i),
                requester: i.requester.clone(),
                tags: all,
                order: i.order.clone(),
                urgent: !matches!(
                    i.kind,
                    IncidentKind::Comment { .. } | IncidentKind::Reply { .. }
                ),
            })
            .await?;
        self.remember(i.shop.as_ref(), external, &t.id).await?;
        Ok(TicketOutcome::Opened(t.id))
    }

    /// Remembers the ticket of an external id (a newer ticket replaces a closed one).
    async fn remember(&self, shop: Option<&ShopId>, external: &str, id: &str) -> Result<(), Error> {
        let known = self
            .snapshots
            .snapshot(TICKET_SNAPSHOT, external)
            .await?
            .and_then(|s| s.data.get("ticket_id")?.as_str().map(str::to_owned));
        if known.as_deref() == Some(id) {
            return Ok(());
        }
        self.snapshots
            .put_if_newer(&Snapshot {
                kind: TICKET_SNAPSHOT.into(),
                shop: shop.cloned(),
                id: external.to_owned(),
                version: self.clock.now(),
                data: serde_json::json!({ "ticket_id": id, "desk": self.desk.name() }),
            })
            .await?;
        Ok(())
    }

    /// The order's ticket: by the remembered id, else by external id at the desk.
    async fn locate(&self, external: &str) -> Result<Option<Ticket>, Error> {
        let remembered = self
            .snapshots
            .snapshot(TICKET_SNAPSHOT, external)
            .await?
            .and_then(|s| s.data.get("ticket_id")?.as_str().map(str::to_owned));
        if let Some(id) = remembered
            && let Some(t) = self.desk.ticket(&id).await?
        {
            return Ok(Some(t));
        }
        Ok(self.desk.find_ticket(external).await?)
    }

    fn incident_tags(&self, i: &Incident) -> Vec<String> {
        let mut t = Vec::new();
        match &i.kind {
            IncidentKind::Detractor { .. } => t.push(self.settings.detractor_tag.clone()),
            IncidentKind::LateDelivery { .. } => t.push(self.settings.late_tag.clone()),
            IncidentKind::Help { .. } => t.push(self.settings.help_tag.clone()),
            IncidentKind::Recovery { .. } => t.push("service_recovery".to_owned()),
            IncidentKind::Comment { .. } | IncidentKind::Reply { .. } => {}
        }
        if is_late(&i.order, i.at) && !t.contains(&self.settings.late_tag) {
            t.push(self.settings.late_tag.clone());
        }
        t
    }

    /// The note's text for agents: what happened, then the order's facts.
    fn text(&self, i: &Incident) -> String {
        let mut s = String::new();
        match &i.kind {
            IncidentKind::Detractor {
                survey,
                score,
                max,
                comment,
                via,
            } => {
                s.push_str(&format!(
                    "Survey answer: {survey} {score}/{max} (via {via})\n"
                ));
                if let Some(c) = comment.as_deref().filter(|c| !c.trim().is_empty()) {
                    s.push_str(&format!("Comment: {}\n", c.trim()));
                }
            }
            IncidentKind::LateDelivery { text } => {
                s.push_str("Complaint: the delivery was late\n");
                if let Some(t) = text {
                    s.push_str(&format!("Customer wrote: {}\n", t.trim()));
                }
            }
            IncidentKind::Help { text, channel } => {
                s.push_str(&format!("Help request by {channel}: {}\n", text.trim()));
            }
            IncidentKind::Comment { text } => {
                s.push_str(&format!("Reply after the survey closed: {}\n", text.trim()));
            }
            IncidentKind::Reply { text } => {
                s.push_str(&format!("Later reply: {}\n", text.trim()));
            }
            IncidentKind::Recovery { signal } => {
                s.push_str(&format!(
                    "Service recovery: an early sign of a bad experience ({signal})\n"
                ));
            }
        }
        let o = &i.order;
        s.push_str(&format!(
            "Order: {} (id {})\n",
            o.order_number.as_deref().unwrap_or(&o.order_id),
            o.order_id
        ));
        if !o.products.is_empty() {
            s.push_str(&format!("Products: {}\n", o.products.join(", ")));
        }
        if let Some(c) = &o.carrier {
            s.push_str(&format!("Carrier: {c}\n"));
        }
        match (o.days_late(), o.estimated_delivery, o.delivered_at) {
            (Some(d), Some(est), Some(at)) => s.push_str(&format!(
                "Delivery: {d} day(s) late (estimated {}, delivered {})\n",
                est.format("%Y-%m-%d"),
                at.format("%Y-%m-%d")
            )),
            (None, Some(_), Some(at)) => {
                s.push_str(&format!("Delivery: on time ({})\n", at.format("%Y-%m-%d")))
            }
            (_, _, Some(at)) => {
                s.push_str(&format!("Delivered: {}\n", at.format("%Y-%m-%d")));
            }
            (_, Some(est), None) if est < i.at => s.push_str(&format!(
                "Delivery: not delivered yet, {} day(s) after the estimate ({})\n",
                (i.at - est).num_hours().div_euclid(24) + 1,
                est.format("%Y-%m-%d")
            )),
            _ => {}
        }
        if let Some(l) = &i.requester.locale {
            s.push_str(&format!("Customer's language: {l}\n"));
        }
        s
    }

    /// The requester and order context of an invitation.
    async fn context(&self, inv: &Invitation) -> Result<(Requester, OrderContext), Error> {
        let mut requester = Requester::default();
        for role in ["after_delivery", "after_shipping"] {
            if let Some(m) = self
                .outbox
                .outbox_by_key(&format!("survey:{}:{role}", inv.id))
                .await?
            {
                requester = requester_for(m.message.channel, &m.message.to);
                break;
            }
        }
        requester.locale = Some(inv.locale.clone());
        let order = self.facts_for_order(&inv.order_id, Some(&inv.id)).await?;
        Ok((requester, order))
    }

    async fn facts_for_order(
        &self,
        order: &OrderId,
        invitation: Option<&String>,
    ) -> Result<OrderContext, Error> {
        let facts = match invitation {
            Some(id) => self
                .snapshots
                .snapshot(FACTS_SNAPSHOT, id)
                .await?
                .and_then(|s| serde_json::from_value::<SurveyFacts>(s.data).ok()),
            None => None,
        };
        let mut o = OrderContext {
            order_id: order.as_str().to_owned(),
            ..OrderContext::default()
        };
        if let Some(f) = facts {
            o.order_number = f.order_number;
            o.products = f.products;
            o.carrier = f.carrier;
            o.estimated_delivery = f.estimated_delivery;
            o.delivered_at = f.delivered_at;
        }
        Ok(o)
    }
}

/// Whether an order is late at `now`: delivered after its first estimate, or past it and
/// not delivered.
fn is_late(o: &OrderContext, now: DateTime<Utc>) -> bool {
    o.days_late().is_some()
        || (o.delivered_at.is_none() && o.estimated_delivery.is_some_and(|est| est < now))
}

/// Whether a reply reads as a complaint that a delivery is late or has not come, in the six
/// languages of the message catalogs: English, Spanish, Portuguese, Turkish, Arabic, Thai.
/// Words are matched whole in scripts with spaces (`late` is not in `chocolate`), phrases
/// and Arabic/Thai stems as text. Deliberately narrow: a miss leaves the reply to the
/// survey's usual handling (re-ask, comment), a false match opens a ticket for a human.
pub fn is_late_complaint(text: &str) -> bool {
    const WORDS: &[&str] = &[
        // English
        "late",
        "delay",
        "delayed",
        "delays",
        "overdue",
        // Spanish
        "tarde",
        "retraso",
        "retrasado",
        "retrasada",
        "demora",
        "demoró",
        "demorado",
        // Portuguese
        "atraso",
        "atrasado",
        "atrasada",
        "atrasou",
        "demorou",
        // Turkish
        "geç",
        "gecikme",
        "gecikti",
        "gecikmeli",
        "gelmedi",
    ];
    const PHRASES: &[&str] = &[
        "still waiting",
        "never arrived",
        "never came",
        "hasn't arrived",
        "has not arrived",
        "not arrived",
        "didn't arrive",
        "did not arrive",
        "took too long",
        "where is my order",
        "where's my order",
        "where is my package",
        "todavía no llega",
        "aún no llega",
        "no ha llegado",
        "no llegó",
        "ainda não chegou",
        "não chegou",
        "nunca chegou",
        "hâlâ bekliyorum",
        "hala bekliyorum",
        "ulaşmadı",
        // Arabic: late, delay, did not arrive, has not arrived yet
        "تأخر",
        "متأخر",
        "تأخير",
        "لم يصل",
        "ما وصل",
        "لم تصل",
        "ما وصلت",
        // Thai: late, slow, not received yet
        "ล่าช้า",
        "ส่งช้า",
        "มาช้า",
        "ยังไม่ได้รับ",
        "ยังไม่ได้ของ",
        "ยังไม่มา",
    ];
    let lower = text.to_lowercase();
    let normal: String = lower
        .chars()
        .map(|c| if c == '\u{2019}' { '\'' } else { c })
        .collect();
    let spaced: String = normal
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if PHRASES.iter().any(|p| spaced.contains(p)) {
        return true;
    }
    spaced
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .any(|w| WORDS.contains(&w))
}

fn requester_for(channel: ChannelKind, address: &str) -> Requester {
    let mut r = Requester::default();
    match channel {
        ChannelKind::Email => r.email = Some(address.to_owned()),
        _ => r.phone = Some(address.trim_start_matches("whatsapp:").to_owned()),
    }
    r
}

fn describe(kind: &IncidentKind) -> String {
    match kind {
        IncidentKind::Detractor {
            survey, score, max, ..
        } => format!("a detractor answer ({survey} {score}/{max})"),
        IncidentKind::LateDelivery { .. } => "a late-delivery complaint".into(),
        IncidentKind::Help { channel, .. } => format!("a help request by {channel}"),
        IncidentKind::Comment { .. } => "a reply after the survey closed".into(),
        IncidentKind::Reply { .. } => "a later reply".into(),
        IncidentKind::Recovery { signal } => format!("service recovery ({signal})"),
    }
}

/// The ticket id a ledger reason names (`opened ticket 42 for...`).
fn ticket_in(reason: &str) -> Option<String> {
    let rest = reason.split("ticket ").nth(1)?;
    let id: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    (!id.is_empty() && id != "?").then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_complaints_are_read_in_the_six_languages() {
        for t in [
            "It came a week late!",
            "Still waiting for my package",
            "where’s my order??",
            "Llegó tarde, muy mal",
            "todavía no llega",
            "O pedido atrasou muito",
            "ainda não chegou",
            "Kargo çok geç geldi",
            "hâlâ bekliyorum",
            "الطلب تأخر كثيرا",
            "لم يصل الطلب حتى الآن",
            "ของมาช้ามาก ส่งช้า",
            "ยังไม่ได้รับของเลย",
        ] {
            assert!(is_late_complaint(t), "{t}");
        }
    }

    #[test]
    fn other_replies_are_not_late_complaints() {
        for t in [
            "9",
            "Great service, thanks",
            "The chocolate was lovely",
            "please translate the template",
            "geçen hafta aldım, güzel",
            "ممتاز",
            "ดีมาก",
            "",
        ] {
            assert!(!is_late_complaint(t), "{t}");
        }
    }

    #[test]
    fn an_order_is_late_after_its_estimate_delivered_or_not() {
        let est: DateTime<Utc> = "2026-05-01T12:00:00Z".parse().unwrap_or_default();
        let mut o = OrderContext::new("1");
        o.estimated_delivery = Some(est);
        assert!(!is_late(&o, est - chrono::Duration::hours(1)));
        assert!(is_late(&o, est + chrono::Duration::hours(1)));
        o.delivered_at = Some(est - chrono::Duration::hours(2));
        assert!(!is_late(&o, est + chrono::Duration::days(3)));
        o.delivered_at = Some(est + chrono::Duration::hours(30));
        assert!(is_late(&o, est + chrono::Duration::days(3)));
    }
}
