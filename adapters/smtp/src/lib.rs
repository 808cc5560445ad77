//! # aftercare-smtp
//!
//! Email over SMTP for Aftercare: an [`SmtpChannel`] implementing
//! [`aftercare::channel::MessageChannel`] for
//! [`aftercare::model::ChannelKind::Email`], built on
//! [lettre](https://docs.rs/lettre) 0.11 with rustls (no OpenSSL).
//!
//! - **Security**: implicit TLS (port 465), STARTTLS (required or opportunistic) or plain
//!   text for local development ([`Security`]). Credentials (PLAIN or LOGIN) are never sent
//!   over an unencrypted connection unless [`Security::Plain`] is chosen, and never appear in
//!   `Debug` output or logs.
//! - **Body**: `text/plain`, or `multipart/alternative` (text + HTML) when
//!   [`OutboundMessage::html`](aftercare::model::OutboundMessage::html) is set. UTF-8 subjects
//!   are RFC 2047 encoded.
//! - **Stable Message-ID**: `<{first 32 hex digits of sha256(idempotency key)}@{domain}>`, so
//!   a resend of the same message after a crash carries the same Message-ID and can be
//!   recognised (and de-duplicated by mail systems that do so). See [`message_id`].
//! - **One-click unsubscribe (RFC 8058)**: messages whose purpose is
//!   [`Feedback`](aftercare::model::Purpose::Feedback) or
//!   [`Marketing`](aftercare::model::Purpose::Marketing) carry
//!   `List-Unsubscribe: <https://…>, <mailto:…>` and
//!   `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. Transactional messages never do.
//!
//! ## `OutboundMessage::meta` keys read by this channel
//!
//! | key | meaning |
//! |---|---|
//! | [`META_LIST_UNSUBSCRIBE`] (`list_unsubscribe`) | the HTTPS one-click unsubscribe URL (must start with `https://`; it should carry an opaque, hard-to-forge token, since the mailbox provider's POST carries nothing else). Required for `List-Unsubscribe-Post`; without it a Feedback/Marketing message gets only a `mailto:` `List-Unsubscribe` (when one is configured) and a warning is logged. |
//! | [`META_LIST_UNSUBSCRIBE_MAILTO`] (`list_unsubscribe_mailto`) | an address (or `mailto:` URI) added as a second `List-Unsubscribe` entry; falls back to [`SmtpConfig::unsubscribe_mailto`]. |
//! | [`META_REPLY_TO`] (`reply_to`) | a Reply-To mailbox for this message, overriding [`SmtpConfig::reply_to`]. |
//!
//! ## How failures are classified
//!
//! | what happened | [`SendError`] |
//! |---|---|
//! | the server answered 5xx (550 mailbox unavailable, 553, 535 authentication failed…) | `Permanent`, with the reply code |
//! | the server answered 4xx (421, 450, 451, 452, 454…) | `Transient` |
//! | connection refused, DNS failure, TLS handshake failure, timeout or dropped connection **before `DATA`** was accepted | `Transient` |
//! | the connection failed **after the message body was being sent** (no final reply) | `MaybeSent` |
//! | a configuration problem found by the client (no shared AUTH mechanism, STARTTLS required but not offered, invalid address) | `Permanent` |
//!
//! ```
//! use aftercare::model::{ChannelKind, OutboundMessage, Purpose};
//! use aftercare_smtp::{Security, SmtpChannel, SmtpConfig, META_LIST_UNSUBSCRIBE};
//!
//! let config = SmtpConfig::new("smtp.example.com", 465, Security::ImplicitTls, "Shop <orders@shop.example>")
//!     .credentials("orders@shop.example", "app-password")
//!     .reply_to("Support <help@shop.example>");
//! assert!(!format!("{config:?}").contains("app-password"));
//! let channel = SmtpChannel::new(config)?;
//!
//! let mut msg = OutboundMessage::new(ChannelKind::Email, "jane@example.com", Purpose::Feedback, "How did we do?");
//! msg.subject = Some("A quick question".into());
//! msg.meta.insert(META_LIST_UNSUBSCRIBE.into(), "https://shop.example/u/opaque-token".into());
//! let email = channel.build_message(&msg, "survey:1001:email")?;
//! let raw = String::from_utf8(email.formatted()).unwrap();
//! assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
//! assert!(raw.contains(&aftercare_smtp::message_id("survey:1001:email", "shop.example")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use aftercare::channel::{MessageChannel, SendError};
use aftercare::model::{ChannelKind, OutboundMessage, Purpose, Receipt};
use async_trait::async_trait;
use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Quit, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use sha2::{Digest as _, Sha256};

/// Meta key: the HTTPS one-click unsubscribe URL (RFC 8058).
pub const META_LIST_UNSUBSCRIBE: &str = "list_unsubscribe";
/// Meta key: a mailto address or URI added to `List-Unsubscribe`.
pub const META_LIST_UNSUBSCRIBE_MAILTO: &str = "list_unsubscribe_mailto";
/// Meta key: a Reply-To mailbox for this message.
pub const META_REPLY_TO: &str = "reply_to";

/// The error type of this crate: a configuration that cannot work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmtpError {
    /// A mailbox in the configuration could not be parsed.
    #[error(
        "invalid {field} mailbox `{value}`: {reason}; use `Name <user@domain>` or `user@domain`"
    )]
    InvalidMailbox {
        /// Which setting (`from`, `reply_to`).
        field: &'static str,
        /// The value given.
        value: String,
        /// The parser's complaint.
        reason: String,
    },
    /// A PEM root certificate could not be read.
    #[error("invalid root certificate: {0}; pass a PEM-encoded X.509 certificate")]
    InvalidCertificate(String),
    /// TLS could not be configured.
    #[error("TLS configuration failed for server name `{server_name}`: {reason}")]
    Tls {
        /// The name the certificate is checked against.
        server_name: String,
        /// Why.
        reason: String,
    },
    /// The Message-ID domain is not usable.
    #[error(
        "invalid Message-ID domain `{0}`: it must be a non-empty host name without `<`, `>`, `@` or spaces"
    )]
    InvalidDomain(String),
}

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Security {
    /// TLS from the first byte (SMTPS, port 465). Recommended by RFC 8314.
    ImplicitTls,
    /// Connect in clear, then `STARTTLS`; fail if the server does not offer it (port 587).
    StartTlsRequired,
    /// `STARTTLS` when offered, otherwise continue in clear (credentials are then not sent).
    StartTlsOpportunistic,
    /// No encryption at all: for a local development server only.
    Plain,
}

/// A password that never shows in `Debug` output.
#[derive(Clone)]
struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where and how to send email.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SmtpConfig {
    /// Server host name (also the name its certificate is checked against, unless
    /// [`SmtpConfig::tls_server_name`] says otherwise).
    pub host: String,
    /// Server port (465 for implicit TLS, 587 for STARTTLS, 25 for relays).
    pub port: u16,
    /// How the connection is secured.
    pub security: Security,
    /// The `From:` mailbox (`Shop <orders@shop.example>`).
    pub from: String,
    /// The default `Reply-To:` mailbox.
    pub reply_to: Option<String>,
    /// A mailto address added to `List-Unsubscribe` when the message has none.
    pub unsubscribe_mailto: Option<String>,
    /// The domain of the Message-IDs (defaults to the domain of `from`).
    pub message_id_domain: Option<String>,
    /// The name sent in `EHLO` (defaults to the machine's host name).
    pub hello_name: Option<String>,
    /// Connection and per-command timeout.
    pub timeout: Duration,
    username: Option<String>,
    password: Option<Password>,
    tls_server_name: Option<String>,
    root_certificates: Vec<Vec<u8>>,
}

impl SmtpConfig {
    /// A configuration without credentials, with a 30-second timeout.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        security: Security,
        from: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            security,
            from: from.into(),
            reply_to: None,
            unsubscribe_mailto: None,
            message_id_domain: None,
            hello_name: None,
            timeout: Duration::from_secs(30),
            username: None,
            password: None,
            tls_server_name: None,
            root_certificates: Vec::new(),
        }
    }

    /// Authenticates with PLAIN or LOGIN (whichever the server offers, PLAIN first).
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self.password = Some(Password(password.into()));
        self
    }

    /// Sets the default Reply-To mailbox.
    pub fn reply_to(mut self, mailbox: impl Into<String>) -> Self {
        self.reply_to = Some(mailbox.into());
        self
    }

    /// Sets the mailto address used in `List-Unsubscribe` when a message has none.
    pub fn unsubscribe_mailto(mut self, address: impl Into<String>) -> Self {
        self.unsubscribe_mailto = Some(address.into());
        self
    }

    /// Sets the domain of the Message-IDs.
    pub fn message_id_domain(mut self, domain: impl Into<String>) -> Self {
        self.message_id_domain = Some(domain.into());
        self
    }

    /// Sets the name sent in `EHLO`.
    pub fn hello_name(mut self, name: impl Into<String>) -> Self {
        self.hello_name = Some(name.into());
        self
    }

    /// Sets the connection and per-command timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the server certificate against this name instead of `host` (useful when
    /// connecting by IP address).
    pub fn tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.tls_server_name = Some(name.into());
        self
    }

    /// Trusts an extra root certificate (PEM), in addition to the WebPKI roots: a private
    /// relay's CA, or a test server's self-signed certificate.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }
}

/// The stable Message-ID for an idempotency key: `<{32 hex digits of sha256(key)}@{domain}>`.
///
/// ```
/// let a = aftercare_smtp::message_id("tracking:1001:f1:shipped:email", "shop.example");
/// assert_eq!(a, aftercare_smtp::message_id("tracking:1001:f1:shipped:email", "shop.example"));
/// assert!(a.starts_with('<') && a.ends_with("@shop.example>"));
/// ```
pub fn message_id(idempotency_key: &str, domain: &str) -> String {
    let digest = hex::encode(Sha256::digest(idempotency_key.as_bytes()));
    format!("<{}@{}>", &digest[..32], domain)
}

/// Sends email through one SMTP server, one connection per message.
pub struct SmtpChannel {
    config: SmtpConfig,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    domain: String,
    tls: Option<TlsParameters>,
    credentials: Option<Credentials>,
}

impl std::fmt::Debug for SmtpChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The config's Debug redacts the password; lettre's Credentials would not.
        f.debug_struct("SmtpChannel")
            .field("config", &self.config)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl SmtpChannel {
    /// Checks the configuration and prepares TLS. Does not connect.
    pub fn new(config: SmtpConfig) -> Result<Self, SmtpError> {
        let from = parse_mailbox("from", &config.from)?;
        let reply_to = config
            .reply_to
            .as_deref()
            .map(|r| parse_mailbox("reply_to", r))
            .transpose()?;
        let domain = config
            .message_id_domain
            .clone()
            .unwrap_or_else(|| from.email.domain().to_owned());
        if domain.is_empty() || domain.contains(['<', '>', '@', ' ', '\r', '\n']) {
            return Err(SmtpError::InvalidDomain(domain));
        }
        let tls = match config.security {
            Security::Plain => None,
            _ => {
                let server_name = config
                    .tls_server_name
                    .clone()
                    .unwrap_or_else(|| config.host.clone());
                let mut builder = TlsParameters::builder(server_name.clone());
                for pem in &config.root_certificates {
                    let cert = Certificate::from_pem(pem)
                        .map_err(|e| SmtpError::InvalidCertificate(e.to_string()))?;
                    builder = builder.add_root_certificate(cert);
                }
                Some(builder.build_rustls().map_err(|e| SmtpError::Tls {
                    server_name,
                    reason: e.to_string(),
                })?)
            }
        };
        let credentials = match (&config.username, &config.password) {
            (Some(u), Some(p)) => Some(Credentials::new(u.clone(), p.0.clone())),
            _ => None,
        };
        Ok(Self {
            config,
            from,
            reply_to,
            domain,
            tls,
            credentials,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SmtpConfig {
        &self.config
    }

    /// Builds the MIME message that [`send`](MessageChannel::send) would transmit: headers
    /// (From, To, Reply-To, Subject, Message-ID, List-Unsubscribe…) and body.
    pub fn build_message(
        &self,
        msg: &OutboundMessage,
        idempotency_key: &str,
    ) -> Result<Message, SendError> {
        let to: Mailbox = msg.to.trim().parse().map_err(|e| {
            SendError::permanent(None, format!("invalid recipient address `{}`: {e}", msg.to))
        })?;
        let subject = msg.subject.clone().unwrap_or_else(|| {
            msg.text
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(78)
                .collect()
        });
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id(idempotency_key, &self.domain)));
        let reply_to = match msg.meta.get(META_REPLY_TO) {
            Some(r) => Some(r.parse::<Mailbox>().map_err(|e| {
                SendError::permanent(
                    None,
                    format!("invalid meta `{META_REPLY_TO}` mailbox `{r}`: {e}"),
                )
            })?),
            None => self.reply_to.clone(),
        };
        if let Some(r) = reply_to {
            builder = builder.reply_to(r);
        }
        if matches!(msg.purpose, Purpose::Feedback | Purpose::Marketing) {
            match self.list_unsubscribe(msg)? {
                Some((value, one_click)) => {
                    builder = builder.raw_header(HeaderValue::new(
                        HeaderName::new_from_ascii_str("List-Unsubscribe"),
                        value,
                    ));
                    if one_click {
                        builder = builder.raw_header(HeaderValue::new(
                            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                            "List-Unsubscribe=One-Click".to_owned(),
                        ));
                    } else {
                        tracing::warn!(
                            purpose = msg.purpose.as_str(),
                            "no `{META_LIST_UNSUBSCRIBE}` HTTPS URL: List-Unsubscribe has only a mailto, without one-click (RFC 8058)"
                        );
                    }
                }
                None => tracing::warn!(
                    purpose = msg.purpose.as_str(),
                    "no `{META_LIST_UNSUBSCRIBE}` meta on a {} email: sent without unsubscribe headers",
                    msg.purpose.as_str()
                ),
            }
        }
        let built = match &msg.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                msg.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(SinglePart::plain(msg.text.clone())),
        };
        built.map_err(|e| SendError::permanent(None, format!("could not build the email: {e}")))
    }

    /// The `List-Unsubscribe` value, and whether it carries an HTTPS URI (so one-click
    /// applies).
    fn list_unsubscribe(&self, msg: &OutboundMessage) -> Result<Option<(String, bool)>, SendError> {
        let mut uris = Vec::new();
        let https = match msg.meta.get(META_LIST_UNSUBSCRIBE) {
            Some(url) => {
                let url = url.trim();
                if !url.starts_with("https://") || !header_safe(url) {
                    return Err(SendError::permanent(
                        None,
                        format!(
                            "meta `{META_LIST_UNSUBSCRIBE}` must be an https:// URL without spaces, `<`, `>` or `,` (RFC 8058)"
                        ),
                    ));
                }
                uris.push(url.to_owned());
                true
            }
            None => false,
        };
        let mailto = msg
            .meta
            .get(META_LIST_UNSUBSCRIBE_MAILTO)
            .or(self.config.unsubscribe_mailto.as_ref());
        if let Some(m) = mailto {
            let m = m.trim();
            let uri = if m.starts_with("mailto:") {
                m.to_owned()
            } else {
                format!("mailto:{m}")
            };
            if !header_safe(&uri) {
                return Err(SendError::permanent(
                    None,
                    format!("meta `{META_LIST_UNSUBSCRIBE_MAILTO}` is not a usable mailto address"),
                ));
            }
            uris.push(uri);
        }
        if uris.is_empty() {
            return Ok(None);
        }
        let value = uris
            .iter()
            .map(|u| format!("<{u}>"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Some((value, https)))
    }

    fn hello(&self) -> ClientId {
        match &self.config.hello_name {
            Some(n) => ClientId::Domain(n.clone()),
            None => ClientId::default(),
        }
    }

    async fn transmit(&self, email: &Message) -> Result<String, SendError> {
        let hello = self.hello();
        let implicit = match self.config.security {
            Security::ImplicitTls => self.tls.clone(),
            _ => None,
        };
        let mut conn = self
            .before(
                "connect",
                AsyncSmtpConnection::connect_tokio1(
                    (self.config.host.as_str(), self.config.port),
                    Some(self.config.timeout),
                    &hello,
                    implicit,
                    None,
                ),
            )
            .await?;
        let result = self.dialog(&mut conn, &hello, email).await;
        // Closing politely must not hang a send whose outcome is already known.
        match &result {
            Ok(_) => {
                let _ = tokio::time::timeout(self.config.timeout, conn.command(Quit)).await;
            }
            Err(_) => {
                let _ = tokio::time::timeout(self.config.timeout, conn.abort()).await;
            }
        }
        result
    }

    /// Runs one step before `DATA` was accepted, with the timeout.
    async fn before<T>(
        &self,
        step: &str,
        fut: impl std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T, SendError> {
        match tokio::time::timeout(self.config.timeout, fut).await {
            Ok(r) => r.map_err(|e| before_data(step, &e)),
            Err(_) => Err(SendError::transient(
                None,
                format!(
                    "{step}: no answer from the server within {:?}",
                    self.config.timeout
                ),
            )),
        }
    }

    async fn dialog(
        &self,
        conn: &mut AsyncSmtpConnection,
        hello: &ClientId,
        email: &Message,
    ) -> Result<String, SendError> {
        let starttls = match self.config.security {
            Security::StartTlsRequired => {
                if !conn.can_starttls() {
                    return Err(SendError::permanent(
                        None,
                        format!(
                            "{}:{} does not offer STARTTLS, which the configuration requires; use implicit TLS or fix the server",
                            self.config.host, self.config.port
                        ),
                    ));
                }
                true
            }
            Security::StartTlsOpportunistic => conn.can_starttls(),
            Security::ImplicitTls | Security::Plain => false,
        };
        if starttls && let Some(tls) = &self.tls {
            self.before("STARTTLS", conn.starttls(tls.clone(), hello))
                .await?;
        }
        if let Some(creds) = &self.credentials {
            if !conn.is_encrypted() && self.config.security != Security::Plain {
                return Err(SendError::permanent(
                    None,
                    "the server offered no TLS, so the credentials were not sent; use STARTTLS-required or implicit TLS",
                ));
            }
            self.before(
                "AUTH",
                conn.auth(&[Mechanism::Plain, Mechanism::Login], creds),
            )
            .await?;
        }
        let envelope = email.envelope();
        let body = email.formatted();
        let mut options = Vec::new();
        if !body.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.before(
            "MAIL FROM",
            conn.command(Mail::new(envelope.from().cloned(), options)),
        )
        .await?;
        for rcpt in envelope.to() {
            self.before("RCPT TO", conn.command(Rcpt::new(rcpt.clone(), Vec::new())))
                .await?;
        }
        self.before("DATA", conn.command(Data)).await?;
        // From here on the server may have the whole message: a failure without a reply
        // code means we cannot know whether it was accepted.
        let reply = match tokio::time::timeout(self.config.timeout, conn.message(&body)).await {
            Ok(r) => r.map_err(|e| after_data(&e))?,
            Err(_) => {
                return Err(SendError::MaybeSent {
                    reason: format!(
                        "no final reply within {:?} after the message was transmitted",
                        self.config.timeout
                    ),
                });
            }
        };
        Ok(reply.message().collect::<Vec<_>>().join(" "))
    }
}

fn header_safe(s: &str) -> bool {
    !s.is_empty()
        && s.is_ascii()
        && !s.chars().any(|c| {
            c.is_ascii_whitespace() || c.is_ascii_control() || matches!(c, '<' | '>' | ',')
        })
}

fn parse_mailbox(field: &'static str, value: &str) -> Result<Mailbox, SmtpError> {
    value.parse().map_err(
        |e: lettre::address::AddressError| SmtpError::InvalidMailbox {
            field,
            value: value.to_owned(),
            reason: e.to_string(),
        },
    )
}

/// A failure before the server accepted `DATA`: nothing was transmitted.
fn before_data(step: &str, e: &lettre::transport::smtp::Error) -> SendError {
    if let Some(code) = e.status() {
        return by_reply_code(step, code.to_string(), e);
    }
    if e.is_client() {
        return SendError::permanent(None, format!("{step}: {e}; check the SMTP configuration"));
    }
    SendError::transient(None, format!("{step}: {e}"))
}

/// A failure while the message body was sent or its final reply awaited.
fn after_data(e: &lettre::transport::smtp::Error) -> SendError {
    if let Some(code) = e.status() {
        return by_reply_code("end of DATA", code.to_string(), e);
    }
    SendError::MaybeSent {
        reason: format!(
            "the connection failed after the message was transmitted, before the server's final reply: {e}"
        ),
    }
}

fn by_reply_code(step: &str, code: String, e: &lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::permanent(Some(&code), format!("{step}: the server refused it: {e}"))
    } else {
        SendError::transient(
            None,
            format!("{step}: the server deferred it ({code}): {e}"),
        )
    }
}

#[async_trait]
impl MessageChannel for SmtpChannel {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    async fn send(
        &self,
        message: &OutboundMessage,
        idempotency_key: &str,
    ) -> Result<Receipt, SendError> {
        if message.channel != ChannelKind::Email {
            return Err(SendError::permanent(
                None,
                format!("the SMTP channel sends email, not {}", message.channel),
            ));
        }
        let email = self.build_message(message, idempotency_key)?;
        let id = message_id(idempotency_key, &self.domain);
        let reply = self.transmit(&email).await?;
        tracing::debug!(message_id = %id, server_reply = %reply, "email accepted");
        Ok(Receipt::new(id, chrono::Utc::now()))
    }
}
