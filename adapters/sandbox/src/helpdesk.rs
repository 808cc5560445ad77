//! [`SandboxHelpdesk`]: a support desk in memory, for the demos and tests. It implements the
//! sdk's [`Helpdesk`] the way the real desks behave where it matters to the ticket flow:
//! tickets found by external id (the newest first), internal notes, tags merged, a
//! `closed` ticket refusing updates ([`HelpdeskError::Closed`], as Zendesk does), and
//! throttling on demand ([`SandboxHelpdesk::throttle_next`], a `429`).

use std::sync::{Arc, Mutex};

use aftercare::helpdesk::{Helpdesk, HelpdeskError, NewTicket, Note, Ticket, TicketStatus};
use async_trait::async_trait;

/// A ticket as the sandbox desk keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxTicket {
    /// Its id (`1`, `2`...).
    pub id: String,
    /// The external id it was created with.
    pub external_id: String,
    /// Subject line.
    pub subject: String,
    /// The requester's email or phone.
    pub requester: Option<String>,
    /// The requester's language.
    pub locale: Option<String>,
    /// High priority.
    pub urgent: bool,
    /// Tags, in the order they came.
    pub tags: Vec<String>,
    /// Internal notes, the ticket's first comment first.
    pub notes: Vec<String>,
    /// Its state.
    pub status: TicketStatus,
}

#[derive(Debug, Default)]
struct Desk {
    tickets: Vec<SandboxTicket>,
    throttle: u32,
    calls: u32,
}

/// A support desk in memory (tickets, private notes, merged tags; a closed ticket refuses changes; a 429 on demand). Clones share the desk.
#[derive(Clone, Debug, Default)]
pub struct SandboxHelpdesk {
    desk: Arc<Mutex<Desk>>,
    print: bool,
}

impl SandboxHelpdesk {
    /// An empty desk that stays quiet.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty desk that prints what it is asked to do (`helpdesk (sandbox): ...`).
    pub fn console() -> Self {
        Self {
            print: true,
            ..Self::default()
        }
    }

    /// Every ticket, oldest first.
    pub fn tickets(&self) -> Vec<SandboxTicket> {
        self.desk
            .lock()
            .map(|d| d.tickets.clone())
            .unwrap_or_default()
    }

    /// Calls made to the desk (throttled ones included).
    pub fn calls(&self) -> u32 {
        self.desk.lock().map(|d| d.calls).unwrap_or_default()
    }

    /// The next `n` calls answer `429` (retry after one second).
    pub fn throttle_next(&self, n: u32) {
        if let Ok(mut d) = self.desk.lock() {
            d.throttle = n;
        }
    }

    /// Sets a ticket's state, as an agent would (solve, close).
    pub fn set_status(&self, id: &str, status: TicketStatus) {
        if let Ok(mut d) = self.desk.lock()
            && let Some(t) = d.tickets.iter_mut().find(|t| t.id == id)
        {
            t.status = status;
        }
    }

    fn enter(&self) -> Result<std::sync::MutexGuard<'_, Desk>, HelpdeskError> {
        let mut d = self
            .desk
            .lock()
            .map_err(|_| HelpdeskError::Transient("the sandbox desk is poisoned".into()))?;
        d.calls += 1;
        if d.throttle > 0 {
            d.throttle -= 1;
            return Err(HelpdeskError::RateLimited {
                retry_after_secs: Some(1),
            });
        }
        Ok(d)
    }
}

fn view(t: &SandboxTicket) -> Ticket {
    let mut out = Ticket::new(t.id.clone(), t.status.clone());
    out.external_id = Some(t.external_id.clone());
    out.tags.clone_from(&t.tags);
    out
}

#[async_trait]
impl Helpdesk for SandboxHelpdesk {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn find_ticket(&self, external_id: &str) -> Result<Option<Ticket>, HelpdeskError> {
        let d = self.enter()?;
        Ok(d.tickets
            .iter()
            .rev()
            .find(|t| t.external_id == external_id)
            .map(view))
    }

    async fn ticket(&self, id: &str) -> Result<Option<Ticket>, HelpdeskError> {
        let d = self.enter()?;
        Ok(d.tickets.iter().find(|t| t.id == id).map(view))
    }

    async fn create_ticket(&self, ticket: &NewTicket) -> Result<Ticket, HelpdeskError> {
        let mut d = self.enter()?;
        let t = SandboxTicket {
            id: (d.tickets.len() + 1).to_string(),
            external_id: ticket.external_id.clone(),
            subject: ticket.subject.clone(),
            requester: ticket
                .requester
                .email
                .clone()
                .or_else(|| ticket.requester.phone.clone()),
            locale: ticket.requester.locale.clone(),
            urgent: ticket.urgent,
            tags: merged(&[], &ticket.tags),
            notes: vec![ticket.body.clone()],
            status: TicketStatus::Open,
        };
        if self.print {
            println!(
                "   helpdesk (sandbox) ← ticket #{} opened: “{}” for {}, tags {}",
                t.id,
                t.subject,
                t.requester.as_deref().unwrap_or("?"),
                visible_tags(&t.tags)
            );
        }
        let out = view(&t);
        d.tickets.push(t);
        Ok(out)
    }

    async fn add_note(&self, ticket: &Ticket, note: &Note) -> Result<(), HelpdeskError> {
        let mut d = self.enter()?;
        let Some(t) = d.tickets.iter_mut().find(|t| t.id == ticket.id) else {
            return Err(HelpdeskError::Refused {
                status: 404,
                message: format!("no ticket {}", ticket.id),
            });
        };
        if t.status == TicketStatus::Closed {
            return Err(HelpdeskError::Closed(t.id.clone()));
        }
        t.notes.push(note.body.clone());
        t.tags = merged(&t.tags, &note.tags);
        // A note on a solved ticket reopens it, as the desks do.
        if t.status == TicketStatus::Solved {
            t.status = TicketStatus::Open;
        }
        if self.print {
            println!(
                "   helpdesk (sandbox) ← note on ticket #{}: {}",
                t.id,
                note.body.lines().next().unwrap_or("")
            );
        }
        Ok(())
    }
}

fn merged(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for t in b {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

/// The tags a person reads (the flow's marker tags left out).
fn visible_tags(tags: &[String]) -> String {
    let v: Vec<&str> = tags
        .iter()
        .map(String::as_str)
        .filter(|t| !t.starts_with("aftercare_"))
        .collect();
    v.join(", ")
}
