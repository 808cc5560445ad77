//! The built-in catalogs as the flows' [`Renderer`] and the pages' text
//! ([`PageText`](crate::http::tracking::PageText), feature `axum`).

use chrono::{DateTime, Utc};

use super::format::{format_date, format_integer};
use super::{Args, Format, Localizer, Prepared};
use crate::Error;
use crate::flows::tracking::{RenderRequest, Rendered, Renderer};
use crate::model::ChannelKind;

/// Messages and page text in the customer's language, from the built-in catalogs (or your
/// own, added to the [`Localizer`]).
///
/// An SMS or WhatsApp text is the message alone, with its link (the shop's tracking page,
/// which carries the guides and the support link; see [`crate::sms`] for what it costs);
/// unsolicited ones (survey invitations, reminders, review requests) end with the opt-out
/// hint by default ([`StopHint`]). An email is the message, then the
/// tutorials of the products bought, then the support link, with a subject and an HTML part.
///
/// ```
/// use std::collections::BTreeMap;
/// use aftercare::l10n::Catalogs;
/// use aftercare::flows::tracking::{RenderRequest, Renderer};
/// use aftercare::model::ChannelKind;
/// let c = Catalogs::new("Dukkan");
/// let mut args = BTreeMap::new();
/// args.insert("order_number".to_owned(), "#1001".to_owned());
/// args.insert("tracking_url".to_owned(), "https://t.example/1Z".to_owned());
/// let r = c.render(&RenderRequest::new("tr-TR", ChannelKind::Sms, "tracking-out-for-delivery", args)).unwrap();
/// assert!(r.text.contains("https://t.example/1Z"));
/// assert_eq!(r.locale, "tr");
/// ```
#[derive(Debug)]
pub struct Catalogs {
    localizer: Localizer,
    shop_name: String,
    stop_hint: StopHint,
    replies_read: Vec<ChannelKind>,
    branding: Option<crate::branding::Branding>,
}

/// Which SMS end with the opt-out hint ("Reply STOP to opt out.").
///
/// Safe by default: [`StopHint::Feedback`], so every message the customer did not ask for
/// (survey invitations, reminders, review requests) says how to stop; order updates, which
/// the customer expects, stay short. Every SMS of every locale still fits its segment
/// budget with the hint (`l10n::render_all` holds them to it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopHint {
    /// Every SMS: for shops whose rules require it in every message (US A2P programmes).
    Always,
    /// Survey invitations, reminders and review requests (messages the customer did not
    /// ask for); order updates go without it. The default.
    #[default]
    Feedback,
    /// None. Opt-out keywords are still always honoured (`flows::replies`) and `HELP`
    /// answers with them; turn the hint off only where the shop's rules allow it.
    Never,
}

impl StopHint {
    fn applies_to(self, message_id: &str) -> bool {
        match self {
            StopHint::Always => true,
            StopHint::Never => false,
            StopHint::Feedback => {
                message_id == "review-request"
                    || message_id == "survey-reminder"
                    || (message_id.starts_with("survey-") && message_id.ends_with("-invite"))
            }
        }
    }
}

impl Catalogs {
    /// The built-in catalogs, for a shop called `shop_name`.
    pub fn new(shop_name: impl Into<String>) -> Self {
        Self {
            localizer: Localizer::new(),
            shop_name: shop_name.into(),
            stop_hint: StopHint::default(),
            replies_read: vec![ChannelKind::Sms, ChannelKind::Whatsapp],
            branding: None,
        }
    }

    /// Whether replies on `channel` are read (scored from the text): only then does a survey
    /// invitation on it say "reply with a number". On for SMS and WhatsApp, off for email
    /// until email replies are read.
    pub fn with_replies_read(mut self, channel: ChannelKind, read: bool) -> Self {
        self.replies_read.retain(|c| *c != channel);
        if read {
            self.replies_read.push(channel);
        }
        self
    }

    /// Which SMS end with the opt-out hint ([`StopHint::Feedback`] by default).
    pub fn with_stop_hint(mut self, stop_hint: StopHint) -> Self {
        self.stop_hint = stop_hint;
        self
    }

    /// Your own localizer (added or replaced wording).
    pub fn with_localizer(localizer: Localizer, shop_name: impl Into<String>) -> Self {
        Self {
            localizer,
            shop_name: shop_name.into(),
            stop_hint: StopHint::default(),
            replies_read: vec![ChannelKind::Sms, ChannelKind::Whatsapp],
            branding: None,
        }
    }

    /// The shop's branding on the pages (logo, accent colour, support and shop links) and in
    /// emails (its name and logo above, its support link below); the shop's name becomes
    /// the branding's.
    pub fn with_branding(mut self, branding: crate::branding::Branding) -> Self {
        self.shop_name = branding.name().to_owned();
        self.branding = Some(branding);
        self
    }

    /// The branding, if any.
    pub fn branding(&self) -> Option<&crate::branding::Branding> {
        self.branding.as_ref()
    }

    /// The localizer.
    pub fn localizer(&self) -> &Localizer {
        &self.localizer
    }

    fn args(&self, req: &RenderRequest) -> Args {
        let mut a = Args::new()
            .text("shop_name", self.shop_name.clone())
            .flag("replies", self.replies_read.contains(&req.channel));
        // Dates in the customer's zone (the flows pass it), like the pages.
        let zone = req
            .args
            .get("time_zone")
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(chrono_tz::UTC);
        for (k, v) in &req.args {
            a = match k.as_str() {
                "order_number" | "tracking_number" | "code" => a.ltr(k, v.clone()),
                "survey_url" => a.url("url", v.clone()),
                "review_url" => a.url("url", v.clone()),
                k if k.ends_with("_url") => a.url(k, v.clone()),
                "estimated_delivery" => match v.parse::<DateTime<Utc>>() {
                    Ok(t) => a.text("eta", format_date(&req.locale, t, zone)),
                    Err(_) => a,
                },
                "time_zone" => a,
                "score_min" | "score_max" | "score" => match v.parse::<i64>() {
                    Ok(n) => a.text(k, format_integer(&req.locale, n)),
                    Err(_) => a.text(k, v.clone()),
                },
                _ => a.text(k, v.clone()),
            };
        }
        a
    }

    /// Arguments for a catalog (often a shop's own wording) that uses an optional value
    /// without a `has_…` selector: the missing ones as blank text rather than no message.
    fn filled(args: &Args) -> Args {
        let mut a = args.clone();
        for k in ["kind", "score"] {
            if a.get(k).is_none() {
                a = a.text(k, "");
            }
        }
        for k in ["order_number"] {
            if a.get(k).is_none() {
                a = a.ltr(k, "");
            }
        }
        a
    }

    fn one(
        &self,
        format: Format,
        locale: &str,
        id: &str,
        prepared: &mut Prepared<'_>,
    ) -> Result<(String, String), Error> {
        let r = match self.localizer.render_prepared(format, locale, id, prepared) {
            Ok(r) => r,
            Err(Error::Config(why)) => {
                tracing::warn!(
                    message = id,
                    locale,
                    %why,
                    "a catalog uses an argument this message does not have without a `has_…` selector; rendered with it blank"
                );
                let filled = Self::filled(prepared.args());
                self.localizer.render_inner(
                    format,
                    locale,
                    id,
                    &mut Prepared::new(&filled)?,
                    true,
                )?
            }
            Err(e) => return Err(e),
        };
        Ok((r.locale_used, r.text))
    }

    fn compose(
        &self,
        format: Format,
        req: &RenderRequest,
        args: &mut Prepared<'_>,
    ) -> Result<(String, String), Error> {
        let html = format == Format::Html;
        let (locale, main) = self.one(format, &req.locale, &req.message_id, args)?;
        let mut parts = vec![main];
        // The carrier's own text and the pickup point (set by the tracking flow where useful).
        // In an SMS only while it stays within its segment budget ([`SMS_BUDGET`]): the
        // linked tracking page shows both, and a carrier's long note would double the cost.
        for (key, id) in [
            ("carrier_note", "carrier-note"),
            ("pickup_point", "pickup-point"),
        ] {
            if req.args.get(key).is_some_and(|v| !v.trim().is_empty()) {
                let fragment = self.one(format, &req.locale, id, args)?.1;
                if format == Format::Sms {
                    // The opt-out hint comes after: count it too.
                    let mut probe = format!("{}\n\n{fragment}", parts.join("\n\n"));
                    if self.stop_hint.applies_to(&req.message_id) {
                        probe.push('\n');
                        probe.push_str(&self.one(format, &req.locale, "stop-hint", args)?.1);
                    }
                    if !within_sms_budget(&probe) {
                        tracing::debug!(
                            message = %req.message_id,
                            fragment = id,
                            "left out of the SMS to keep it within its segment budget; the tracking page shows it"
                        );
                        continue;
                    }
                }
                parts.push(fragment);
            }
        }
        // SMS and WhatsApp session texts carry only the message and its link (the shop's
        // tracking page, which shows the guides and the support link): every character
        // inlined there is paid per segment. Email has room for them.
        let rich = matches!(format, Format::EmailText | Format::Html);
        // What was bought, with the products' pictures where the platform gave them.
        if rich && !req.items.is_empty() {
            let (used, heading) = self.one(format, &req.locale, "page-items", args)?;
            parts.push(items_block(format, &used, heading, &req.items));
        }
        if rich && !req.tutorials.is_empty() {
            let (_, intro) = self.one(format, &req.locale, "tutorials-intro", args)?;
            let mut block = intro;
            for (title, url) in &req.tutorials {
                if html {
                    block.push_str(&format!(
                        "<br><a dir=\"ltr\" href=\"{}\">{}</a>",
                        crate::html::escape(url),
                        crate::html::escape(title)
                    ));
                } else {
                    block.push_str(&format!("\n{title}:\n{url}"));
                }
            }
            parts.push(block);
        }
        let support = req
            .args
            .get("support_url")
            .cloned()
            .or_else(|| self.branding.as_ref().and_then(|b| b.support_url_only()));
        if let Some(support) = support.filter(|_| rich) {
            let a = args.args().clone().url("url", support);
            parts.push(
                self.one(format, &req.locale, "support-link", &mut Prepared::new(&a)?)?
                    .1,
            );
        }
        if format == Format::Sms && self.stop_hint.applies_to(&req.message_id) {
            // On the line under the link: a blank line would cost a unit for nothing.
            let hint = self.one(format, &req.locale, "stop-hint", args)?.1;
            match parts.last_mut() {
                Some(last) => {
                    last.push('\n');
                    last.push_str(&hint);
                }
                None => parts.push(hint),
            }
        }
        let sep = if html { "\n" } else { "\n\n" };
        // An email says why it came and how to stop (the last paragraph; a flow adds its
        // own blocks before it, [`super::EMAIL_FOOTER_MARK`]).
        let footer = if rich {
            let why = self.one(format, &req.locale, "quiet-footer", args)?.1;
            let stop = self.one(format, &req.locale, "email-footer-stop", args)?.1;
            Some((why, stop))
        } else {
            None
        };
        let body = if html {
            let mut out = String::new();
            if let Some(b) = &self.branding
                && let Some(logo) = b.logo()
            {
                out.push_str(&format!(
                    "<div><img src=\"{}\" alt=\"{}\" height=\"48\"></div>\n",
                    crate::html::escape(logo),
                    crate::html::escape(b.name())
                ));
            }
            out.push_str(
                &parts
                    .iter()
                    // Each part is a block already (`<div dir lang>`): never inside a `<p>`.
                    .map(|p| format!("<div style=\"margin:0 0 16px\">{p}</div>"))
                    .collect::<Vec<_>>()
                    .join(sep),
            );
            if let Some((why, stop)) = footer {
                out.push_str(&format!(
                    "\n{}<div style=\"color:#555;font-size:13px;margin-top:24px\">{why}{stop}</div>",
                    super::EMAIL_FOOTER_MARK
                ));
            }
            out
        } else {
            if let Some((why, stop)) = footer {
                parts.push(format!("--\n{why}\n{stop}"));
            }
            parts.join(sep)
        };
        Ok((locale, body))
    }
}

/// The most segments an SMS may cost: 2 in GSM-7, 3 in UCS-2 (a single accented or
/// non-Latin letter makes the whole text UCS-2, 67 units a segment).
pub(crate) const SMS_BUDGET: (usize, usize) = (2, 3);

/// Whether the SMS `text` stays within [`SMS_BUDGET`].
fn within_sms_budget(text: &str) -> bool {
    let s = crate::sms::segments(text);
    let budget = match s.encoding {
        crate::sms::Encoding::Gsm7 => SMS_BUDGET.0,
        _ => SMS_BUDGET.1,
    };
    s.segments <= budget
}

/// The lines of an email (`heading` already rendered): in HTML a presentation table, each
/// `https` picture 64 × 64 with the product's name as `alt` (a blocked image reads as the
/// name), a line without a picture as text alone; in plain text one line per product.
fn items_block(
    format: Format,
    locale: &str,
    heading: String,
    items: &[crate::model::LineItem],
) -> String {
    use crate::html::escape;
    let dir = super::direction(locale);
    let mut out = heading;
    if format == Format::Html {
        out.push_str(&format!(
            "<table role=\"presentation\" dir=\"{}\" style=\"border-collapse:collapse;margin-top:8px\">",
            dir.as_str()
        ));
        let pictured = items
            .iter()
            .any(|l| l.image.as_ref().is_some_and(|i| i.is_https()));
        for l in items {
            let title = escape(&super::bidi::strip_controls(&l.title));
            let picture = l
                .image
                .as_ref()
                .filter(|i| i.is_https())
                .map(|src| {
                    format!(
                        "<img src=\"{}\" alt=\"{title}\" width=\"64\" height=\"64\" loading=\"lazy\" style=\"display:block;width:64px;height:64px;border:0;border-radius:8px;object-fit:cover\">",
                        escape(src.as_str())
                    )
                })
                .unwrap_or_default();
            // Without any picture, no empty column.
            let cell = if pictured {
                format!("<td style=\"width:64px;height:64px;padding:4px 0\">{picture}</td>")
            } else {
                String::new()
            };
            out.push_str(&format!(
                "<tr>{cell}<td style=\"padding:4px 12px\"><bdi>{title}</bdi> × {}</td></tr>",
                l.quantity
            ));
        }
        out.push_str("</table>");
    } else {
        for l in items {
            let title = super::bidi::strip_controls(&l.title);
            let title = if dir == super::Dir::Rtl || super::bidi::has_rtl(&title) {
                super::bidi::isolate(super::bidi::FSI, &title)
            } else {
                title
            };
            out.push_str(&format!("\n{title} × {}", l.quantity));
        }
    }
    out
}

impl Renderer for Catalogs {
    fn render(&self, req: &RenderRequest) -> Result<Rendered, Error> {
        let args = self.args(req);
        let format = match req.channel {
            ChannelKind::Sms => Format::Sms,
            ChannelKind::Whatsapp => Format::WhatsApp,
            _ => Format::EmailText,
        };
        // Prepared once: an email renders up to 13 catalog messages with them.
        let mut args = Prepared::new(&args)?;
        let (locale, text) = self.compose(format, req, &mut args)?;
        let mut out = Rendered::new(locale, text);
        if req.channel == ChannelKind::Email {
            let (_, html) = self.compose(Format::Html, req, &mut args)?;
            out.html = Some(html);
            let subject_id = match req.message_id.as_str() {
                "tracking-shipped" => "email-subject-shipped",
                id if id.starts_with("survey-") => "email-subject-survey",
                "support-detractor-alert" => "email-subject-alert",
                _ => "email-subject-update",
            };
            out.subject = Some(
                self.one(Format::EmailText, &req.locale, subject_id, &mut args)?
                    .1,
            );
        }
        Ok(out)
    }
}

#[cfg(feature = "axum")]
impl crate::http::tracking::PageText for Catalogs {
    fn text(&self, locale: &str, id: &str) -> String {
        if let Some(n) = id
            .strip_prefix("digit-")
            .and_then(|n| n.parse::<i64>().ok())
        {
            return format_integer(locale, n);
        }
        let args = Args::new().text("shop_name", self.shop_name.clone());
        self.localizer
            .render_as(Format::EmailText, locale, id, &args)
            .map(|r| r.text)
            .unwrap_or_else(|_| id.to_owned())
    }

    fn text_with(&self, locale: &str, id: &str, args: &[(&str, String)]) -> String {
        let mut a = Args::new().text("shop_name", self.shop_name.clone());
        for (k, v) in args {
            a = a.text(k, v.clone());
        }
        self.localizer
            .render_as(Format::EmailText, locale, id, &a)
            .map(|r| r.text)
            .unwrap_or_else(|_| id.to_owned())
    }

    fn branding(&self) -> Option<&crate::branding::Branding> {
        self.branding.as_ref()
    }

    fn datetime(&self, locale: &str, at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
        // A zone written as an offset ("+03") is neutral characters: in a right-to-left
        // page it would read "(03+)" unless isolated as left-to-right.
        let abbr = format!("({})", at.with_timezone(&zone).format("%Z"));
        let abbr = if super::direction(locale) == super::Dir::Rtl {
            super::bidi::isolate(super::bidi::LRI, &abbr)
        } else {
            abbr
        };
        format!(
            "{} {} {abbr}",
            format_date(locale, at, zone),
            super::format::format_time(locale, at, zone),
        )
    }
}
