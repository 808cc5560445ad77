//! Customer replies: opt-out, opt-in and help keywords, acted on before anything else reads
//! the reply (survey answers, support).
//!
//! | keyword | consent store | reply enqueued (key) |
//! |---|---|---|
//! | opt-out (`STOP`, `إلغاء`, `İPTAL`…) | `Denied` for every purpose on that channel and address, source `reply:<KEYWORD>` | `optout-confirmed`, once per channel, address and day (`optout-confirm:{channel}:{address_hash}:{date}`), on the channels where [`ReplyConfig`] asks for it |
//! | opt-in (`START`, `UNSTOP`, `ابدأ`…) | `Granted` for every purpose, source `reply:<KEYWORD>`, only when an opt-out is in force | `optin-confirmed` (`optin-confirm:{channel}:{address_hash}:{date}`) |
//! | `YES` | as opt-in when an opt-out is in force; otherwise not a keyword, so a survey can read it | as opt-in |
//! | help (`HELP`, `AYUDA`…) | nothing | `help-reply` (`help-reply:{channel}:{address_hash}:{date}`); skipped by the dispatcher if the address has opted out |
//!
//! **Confirmations per channel** (defaults of [`ReplyConfig::new`]):
//! - **SMS: one confirmation.** The FCC allows one confirmation text after a revocation
//!   (FCC 24-24) and CTIA expects it. If your provider already answers STOP itself (Twilio's
//!   default opt-out handling on long codes does, for the English keywords), turn ours off
//!   with [`ReplyConfig::confirm_opt_out`]`(ChannelKind::Sms, false)` to avoid a second one.
//! - **WhatsApp: one confirmation.** The customer is in an open 24-hour window (they just
//!   wrote), so a free-form reply is allowed, and it tells them the opt-out worked.
//! - **Email: none.** Replying "unsubscribe" by email is rare; email opt-outs go through
//!   `List-Unsubscribe`, and a confirmation email is one more unwanted email.
//!
//! The confirmation is a transactional message carrying
//! [`crate::optout::META_CONFIRMS_OPT_OUT`] = the consent source, which
//! the dispatcher's consent policy lets through while that opt-out is the decision in force;
//! everything else to the address is skipped, with the reason in the ledger.
//!
//! The confirmation's language: the `locale_hint` (the customer's known locale), else the
//! keyword's language (`إلغاء` → Arabic, `BAJA` → Spanish), else the shop's default.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::Error;
use crate::clock::Clock;
use crate::l10n::{Args, Localizer};
use crate::model::{ChannelKind, ConsentState, InboundMessage, OutboundMessage, Purpose};
use crate::optout::{Keyword, KeywordMatch, META_CONFIRMS_OPT_OUT, detect};
use crate::store::{ConsentRecord, ConsentStore, Enqueue, NewOutboxMessage, Outbox, address_hash};

/// How replies are answered.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReplyConfig {
    /// The shop's name as customers know it (used in the replies).
    pub shop_name: String,
    /// A page where customers get help (used in the help reply).
    pub help_url: String,
    /// The locale used when neither the customer's nor the keyword's language is known.
    pub default_locale: String,
    confirm: BTreeMap<ChannelKind, bool>,
}

impl ReplyConfig {
    /// Defaults: confirm opt-outs on SMS and WhatsApp, not on email; default locale `en`.
    pub fn new(shop_name: impl Into<String>, help_url: impl Into<String>) -> Self {
        Self {
            shop_name: shop_name.into(),
            help_url: help_url.into(),
            default_locale: "en".into(),
            confirm: BTreeMap::from([
                (ChannelKind::Sms, true),
                (ChannelKind::Whatsapp, true),
                (ChannelKind::Email, false),
            ]),
        }
    }

    /// Whether to send the one opt-out (and opt-in) confirmation on a channel.
    pub fn confirm_opt_out(mut self, channel: ChannelKind, confirm: bool) -> Self {
        self.confirm.insert(channel, confirm);
        self
    }

    /// Sets the fallback locale.
    pub fn default_locale(mut self, locale: impl Into<String>) -> Self {
        self.default_locale = locale.into();
        self
    }

    fn confirms(&self, channel: ChannelKind) -> bool {
        self.confirm.get(&channel).copied().unwrap_or(false)
    }
}

/// What [`ReplyHandler::handle`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyAction {
    /// Recorded an opt-out for the channel and address.
    OptedOut {
        /// The keyword, as written in the consent source (`STOP`).
        keyword: String,
        /// The confirmation enqueued (or found enqueued today), if the channel gets one.
        confirmation: Option<Enqueue>,
    },
    /// Recorded an opt-in (the address had opted out).
    OptedIn {
        /// The keyword.
        keyword: String,
        /// The confirmation enqueued, if the channel gets one.
        confirmation: Option<Enqueue>,
    },
    /// An opt-in keyword from an address that had not opted out: nothing to change.
    AlreadySubscribed {
        /// The keyword.
        keyword: String,
    },
    /// Enqueued the help reply.
    Help {
        /// The help reply.
        reply: Enqueue,
    },
    /// Not a keyword: the reply is for someone else (survey parsing, support).
    NotAKeyword,
}

/// Acts on keyword replies: records consent and enqueues the localized answer.
pub struct ReplyHandler {
    consent: Arc<dyn ConsentStore>,
    outbox: Arc<dyn Outbox>,
    localizer: Arc<Localizer>,
    clock: Arc<dyn Clock>,
    config: ReplyConfig,
}

impl std::fmt::Debug for ReplyHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyHandler")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ReplyHandler {
    /// A handler writing to these stores.
    pub fn new(
        consent: Arc<dyn ConsentStore>,
        outbox: Arc<dyn Outbox>,
        localizer: Arc<Localizer>,
        clock: Arc<dyn Clock>,
        config: ReplyConfig,
    ) -> Self {
        Self {
            consent,
            outbox,
            localizer,
            clock,
            config,
        }
    }

    /// Handles one inbound message. `locale_hint` is the customer's locale when known.
    pub async fn handle(
        &self,
        msg: &InboundMessage,
        locale_hint: Option<&str>,
    ) -> Result<ReplyAction, Error> {
        let Some(m) = detect(&msg.text) else {
            return Ok(ReplyAction::NotAKeyword);
        };
        let now = self.clock.now();
        let source = format!("reply:{}", m.word);
        match m.keyword {
            Keyword::OptOut => {
                self.consent
                    .set_consent(ConsentRecord::new(
                        msg.channel,
                        &msg.from,
                        None,
                        ConsentState::Denied,
                        source.clone(),
                        now,
                    ))
                    .await?;
                tracing::info!(channel = %msg.channel, keyword = m.word, "opt-out recorded from a reply");
                let confirmation = if self.config.confirms(msg.channel) {
                    let mut meta = BTreeMap::new();
                    meta.insert(META_CONFIRMS_OPT_OUT.to_owned(), source);
                    Some(
                        self.enqueue(
                            msg,
                            &m,
                            locale_hint,
                            "optout-confirmed",
                            "optout-confirm",
                            meta,
                            now,
                        )
                        .await?,
                    )
                } else {
                    None
                };
                Ok(ReplyAction::OptedOut {
                    keyword: m.word.to_owned(),
                    confirmation,
                })
            }
            Keyword::OptIn => {
                let current = self
                    .consent
                    .consent(msg.channel, &msg.from, Purpose::Transactional)
                    .await?;
                let opted_out = current.is_some_and(|r| r.state == ConsentState::Denied);
                if !opted_out {
                    if m.word == "YES" {
                        return Ok(ReplyAction::NotAKeyword);
                    }
                    return Ok(ReplyAction::AlreadySubscribed {
                        keyword: m.word.to_owned(),
                    });
                }
                self.consent
                    .set_consent(ConsentRecord::new(
                        msg.channel,
                        &msg.from,
                        None,
                        ConsentState::Granted,
                        source,
                        now,
                    ))
                    .await?;
                tracing::info!(channel = %msg.channel, keyword = m.word, "opt-in recorded from a reply");
                let confirmation = if self.config.confirms(msg.channel) {
                    Some(
                        self.enqueue(
                            msg,
                            &m,
                            locale_hint,
                            "optin-confirmed",
                            "optin-confirm",
                            BTreeMap::new(),
                            now,
                        )
                        .await?,
                    )
                } else {
                    None
                };
                Ok(ReplyAction::OptedIn {
                    keyword: m.word.to_owned(),
                    confirmation,
                })
            }
            Keyword::Help => {
                let reply = self
                    .enqueue(
                        msg,
                        &m,
                        locale_hint,
                        "help-reply",
                        "help-reply",
                        BTreeMap::new(),
                        now,
                    )
                    .await?;
                Ok(ReplyAction::Help { reply })
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn enqueue(
        &self,
        msg: &InboundMessage,
        m: &KeywordMatch,
        locale_hint: Option<&str>,
        message_id: &str,
        key_prefix: &str,
        meta: BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> Result<Enqueue, Error> {
        let locale = locale_hint
            .or(m.language)
            .unwrap_or(self.config.default_locale.as_str());
        let args = Args::new()
            .text("shop_name", self.config.shop_name.clone())
            .url("url", self.config.help_url.clone());
        let rendered = self.localizer.render(locale, message_id, &args)?;
        let mut out = OutboundMessage::new(
            msg.channel,
            msg.from.clone(),
            Purpose::Transactional,
            rendered.text,
        );
        out.locale = rendered.locale_used;
        out.meta = meta;
        let key = format!(
            "{key_prefix}:{}:{}:{}",
            msg.channel,
            address_hash(&msg.from),
            now.format("%Y-%m-%d")
        );
        let reason = format!(
            "reply `{}` received on {}: {message_id}",
            m.word, msg.channel
        );
        self.outbox
            .enqueue(NewOutboxMessage::new(key, out, now, reason), now)
            .await
    }
}
