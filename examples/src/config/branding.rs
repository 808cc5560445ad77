//! `[branding]`: how the shop looks on the pages customers see (tracking, survey,
//! thank-you, error) and in emails, and its checks.

use super::*;

/// The shop's branding. Every field is optional; the shop's name is `[shop] name` (or the
/// platform section's `shop_name`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandingConfig {
    /// The logo above every page and email: an `https://` image URL (the pages allow
    /// images from `https:` only when a logo is set).
    #[serde(default)]
    pub logo_url: Option<String>,
    /// The accent colour of buttons and links, `#rrggbb`. White text on it must reach a
    /// contrast of 4.5:1 (WCAG 2.x); a lighter colour is refused with the nearest readable
    /// shade, unless `adjust_accent` darkens it for you.
    #[serde(default)]
    pub accent_colour: Option<String>,
    /// Darken an accent colour that is too light instead of refusing it.
    #[serde(default)]
    pub adjust_accent: bool,
    /// Where customers get help: a page (`https://...`).
    #[serde(default)]
    pub support_url: Option<String>,
    /// Where customers get help: an address, when there is no support page.
    #[serde(default)]
    pub support_email: Option<String>,
    /// The shop's own site, linked from the thank-you page.
    #[serde(default)]
    pub shop_url: Option<String>,
    /// A review page offered to promoters on the thank-you page.
    #[serde(default)]
    pub review_url: Option<String>,
}

impl BrandingConfig {
    /// The sdk's [`Branding`](aftercare::branding::Branding) for the shop called `name`
    /// (the file has been checked: an unreadable accent was refused or is adjusted here).
    pub fn branding(&self, name: &str) -> aftercare::branding::Branding {
        use aftercare::branding::{Accent, Branding};
        let mut b = Branding::new(name);
        if let Some(u) = &self.logo_url {
            b = b.logo_url(u.clone());
        }
        let accent = self.accent_colour.as_deref().and_then(|c| {
            if self.adjust_accent {
                Accent::readable(c).ok()
            } else {
                Accent::new(c).ok()
            }
        });
        if let Some(a) = accent {
            b = b.accent(a);
        }
        if let Some(u) = &self.support_url {
            b = b.support_url(u.clone());
        }
        if let Some(e) = &self.support_email {
            b = b.support_email(e.clone());
        }
        if let Some(u) = &self.shop_url {
            b = b.shop_url(u.clone());
        }
        if let Some(u) = &self.review_url {
            b = b.review_url(u.clone());
        }
        b
    }
}

pub(super) fn semantic_branding(b: &BrandingConfig, report: &mut dyn FnMut(&str, String)) {
    if let Some(u) = &b.logo_url
        && !u.starts_with("https://")
    {
        report(
            "branding.logo_url",
            format!("`{u}` must be an https:// URL (the pages load images over https only)"),
        );
    }
    if let Some(c) = &b.accent_colour {
        let checked = if b.adjust_accent {
            aftercare::branding::Accent::readable(c).map(|_| ())
        } else {
            aftercare::branding::Accent::new(c).map(|_| ())
        };
        if let Err(e) = checked {
            let hint = match e {
                aftercare::branding::AccentError::Unreadable { .. } => {
                    "; or set `adjust_accent = true` to have it darkened"
                }
                _ => "",
            };
            report("branding.accent_colour", format!("{e}{hint}"));
        }
    }
    for (key, url) in [
        ("branding.support_url", &b.support_url),
        ("branding.shop_url", &b.shop_url),
        ("branding.review_url", &b.review_url),
    ] {
        if let Some(u) = url
            && let Err(e) = http_url(u)
        {
            report(key, e);
        }
    }
    if let Some(e) = &b.support_email
        && !is_mailbox(e)
    {
        report(
            "branding.support_email",
            format!("`{e}` is not an email address"),
        );
    }
}

/// The messages' and pages' text for a configured shop: its branding (`[branding]`), and
/// survey invitations by email saying "reply with a number" only when email replies are
/// read (an inbound email source, `[email] inbound_password`).
pub fn catalogs(cfg: &TrackingLinksConfig, shop_name: String) -> aftercare::l10n::Catalogs {
    let mut c = aftercare::l10n::Catalogs::new(shop_name.clone());
    if let Some(b) = &cfg.branding {
        c = c.with_branding(b.branding(&shop_name));
    }
    let email_replies_read = cfg
        .email
        .as_ref()
        .is_some_and(|e| e.inbound_password.is_some());
    c.with_replies_read(aftercare::model::ChannelKind::Email, email_replies_read)
}
