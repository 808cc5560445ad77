//! Reaching a customer: which channel, which address, allowed for which purpose.

use crate::Error;
use crate::model::{ChannelKind, ConsentState, Customer, Order, Purpose};
use crate::store::ConsentStore;

/// The channel chosen to reach a customer, and why each channel before it in the preference
/// order was passed over (for the ledger: a "WhatsApp first" shop sees why a message went
/// out as SMS).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Chosen {
    /// The channel.
    pub channel: ChannelKind,
    /// The customer's address on it.
    pub address: String,
    /// Per channel passed over: `"whatsapp: no WhatsApp opt-in recorded"`.
    pub passed_over: Vec<String>,
}

impl Chosen {
    /// `reason`, followed by why earlier channels were passed over (if any were).
    pub fn explain(&self, reason: impl Into<String>) -> String {
        let reason = reason.into();
        if self.passed_over.is_empty() {
            reason
        } else {
            format!(
                "{reason}; on {} because {}",
                self.channel,
                self.passed_over.join("; ")
            )
        }
    }
}

/// The address an order itself gives for `channel` (its email; its phone, else the shipping
/// address's), which [`choose_channel`] uses when the customer's record has none: what a
/// unit of work reads consent for ahead.
pub fn order_address(order: &Order, channel: ChannelKind) -> Option<String> {
    match channel {
        ChannelKind::Email => order.email.clone(),
        ChannelKind::Sms | ChannelKind::Whatsapp => order.phone.clone().or_else(|| {
            order
                .shipping_address
                .as_ref()
                .and_then(|a| a.phone.clone())
        }),
        _ => None,
    }
}

/// The first channel in preference order that has an address and is allowed for `purpose`:
/// `Ok(Ok(chosen))` with why earlier channels were passed over, or `Ok(Err(why))` naming, per
/// channel, why it could not be used (for the ledger).
///
/// Consent recorded in the consent store (replies, provider opt-outs) wins over the
/// platform's; a refusal rules a channel out; WhatsApp also needs an explicit opt-in, as
/// WhatsApp's business policy requires for business-initiated messages.
pub async fn choose_channel(
    consent: &dyn ConsentStore,
    channels: &[ChannelKind],
    purpose: Purpose,
    order: &Order,
    customer: Option<&Customer>,
) -> Result<Result<Chosen, String>, Error> {
    let email = customer
        .and_then(|c| c.email.clone())
        .or_else(|| order_address(order, ChannelKind::Email));
    let phone = customer
        .and_then(|c| c.phone.clone())
        .or_else(|| order_address(order, ChannelKind::Sms));
    let mut why = Vec::new();
    for &ch in channels {
        let addr = match ch {
            ChannelKind::Email => email.clone(),
            ChannelKind::Sms | ChannelKind::Whatsapp => phone.clone(),
            _ => None,
        };
        let Some(addr) = addr.filter(|a| !a.trim().is_empty()) else {
            why.push(format!("{ch}: no address"));
            continue;
        };
        let platform = customer.map_or(ConsentState::Unknown, |c| c.consent(purpose, ch));
        let stored = consent.consent(ch, &addr, purpose).await?.map(|r| r.state);
        let state = stored.unwrap_or(platform);
        if state == ConsentState::Denied {
            why.push(format!("{ch}: the customer opted out"));
            continue;
        }
        if ch == ChannelKind::Whatsapp && state != ConsentState::Granted {
            why.push(format!("{ch}: no WhatsApp opt-in recorded"));
            continue;
        }
        return Ok(Ok(Chosen {
            channel: ch,
            address: addr,
            passed_over: why,
        }));
    }
    Ok(Err(format!(
        "no channel can reach the customer for {} messages ({})",
        purpose.as_str(),
        why.join("; ")
    )))
}

/// The customer's language: theirs, else the order's, else the shop's default.
pub fn locale(order: &Order, customer: Option<&Customer>, default: &str) -> String {
    customer
        .and_then(|c| c.locale.clone())
        .or_else(|| order.locale.clone())
        .unwrap_or_else(|| default.to_owned())
}

/// The customer's time zone: the one on record when valid, else inferred from the shipping
/// address or the phone number; `None` when it cannot be told.
pub fn time_zone(order: &Order, customer: Option<&Customer>) -> Option<chrono_tz::Tz> {
    customer
        .and_then(|c| c.time_zone.as_deref())
        .and_then(|z| z.parse().ok())
        .or_else(|| crate::tz::infer(order.shipping_address.as_ref(), order.phone.as_deref()))
}
