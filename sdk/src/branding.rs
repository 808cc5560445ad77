//! The shop's branding on the pages customers see (tracking, survey, thank-you, error) and
//! in emails: its name, logo, accent colour, support contact and own site.
//!
//! The accent colour is checked for contrast: white text on it (buttons, the chosen score)
//! and it as text on white (links) must reach WCAG 2.x's 4.5:1 for normal text.
//! [`Accent::new`] refuses a colour below that; [`Accent::readable`] darkens it until it
//! passes (the hue kept), for a shop that prefers its pages up to a warning.

use std::fmt;

/// Why an accent colour was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AccentError {
    /// Not `#rrggbb` (or `#rgb`).
    #[error("`{0}` is not a colour: write it `#rrggbb`")]
    Syntax(String),
    /// Too light for white text on it and for links on white.
    #[error(
        "`{colour}` has a contrast of {ratio:.2}:1 with white; text needs at least 4.5:1 \
         (the nearest readable shade is `{suggestion}`)"
    )]
    Unreadable {
        /// The colour given.
        colour: String,
        /// Its contrast ratio with white.
        ratio: f64,
        /// The same hue darkened until it passes.
        suggestion: String,
    },
}

/// The minimum contrast ratio of normal text (WCAG 2.x success criterion 1.4.3).
pub const MIN_CONTRAST: f64 = 4.5;

/// A readable accent colour (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accent {
    rgb: [u8; 3],
}

impl Accent {
    /// The pages' own blue, `#0b57d0`.
    pub const DEFAULT: Accent = Accent {
        rgb: [0x0b, 0x57, 0xd0],
    };

    /// Parses `#rrggbb` or `#rgb`; refuses a colour white text cannot be read on.
    ///
    /// ```
    /// use aftercare::branding::Accent;
    /// assert!(Accent::new("#0b57d0").is_ok());
    /// assert!(Accent::new("#ffd700").is_err()); // gold: 1.4:1 with white
    /// ```
    pub fn new(colour: &str) -> Result<Self, AccentError> {
        let a = Self::parse(colour)?;
        let ratio = a.contrast_with_white();
        if ratio < MIN_CONTRAST {
            return Err(AccentError::Unreadable {
                colour: colour.to_owned(),
                ratio,
                suggestion: a.darkened().to_string(),
            });
        }
        Ok(a)
    }

    /// Parses `#rrggbb` or `#rgb`, darkening a colour too light to read until it passes.
    ///
    /// ```
    /// use aftercare::branding::{Accent, MIN_CONTRAST};
    /// let a = Accent::readable("#ffd700").unwrap();
    /// assert!(a.contrast_with_white() >= MIN_CONTRAST);
    /// ```
    pub fn readable(colour: &str) -> Result<Self, AccentError> {
        Ok(Self::parse(colour)?.darkened())
    }

    fn parse(colour: &str) -> Result<Self, AccentError> {
        let bad = || AccentError::Syntax(colour.to_owned());
        let hex = colour.trim().strip_prefix('#').ok_or_else(bad)?;
        if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let digit = |s: &str| u8::from_str_radix(s, 16).map_err(|_| bad());
        let rgb = match hex.len() {
            6 => [digit(&hex[0..2])?, digit(&hex[2..4])?, digit(&hex[4..6])?],
            3 => {
                let d = |i: usize| digit(&hex[i..=i]).map(|v| v * 17);
                [d(0)?, d(1)?, d(2)?]
            }
            _ => return Err(bad()),
        };
        Ok(Self { rgb })
    }

    /// This colour, darkened in steps of 2% until white text on it reaches
    /// [`MIN_CONTRAST`].
    fn darkened(self) -> Self {
        let mut c = self;
        let mut f = 1.0_f64;
        while c.contrast_with_white() < MIN_CONTRAST && f > 0.0 {
            f -= 0.02;
            c = Self {
                rgb: self.rgb.map(|v| (f64::from(v) * f.max(0.0)).round() as u8),
            };
        }
        c
    }

    /// The relative luminance (WCAG 2.x), 0 (black) to 1 (white).
    pub fn luminance(self) -> f64 {
        let lin = |v: u8| {
            let s = f64::from(v) / 255.0;
            if s <= 0.04045 {
                s / 12.92
            } else {
                ((s + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.rgb;
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }

    /// The contrast ratio with white, 1 to 21.
    pub fn contrast_with_white(self) -> f64 {
        1.05 / (self.luminance() + 0.05)
    }
}

impl Default for Accent {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for Accent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [r, g, b] = self.rgb;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

/// The shop as its customers know it.
///
/// ```
/// use aftercare::branding::{Accent, Branding};
/// let b = Branding::new("Dukkan Home")
///     .logo_url("https://cdn.dukkan.example/logo.png")
///     .accent(Accent::new("#7a1f5c").unwrap())
///     .support_url("https://dukkan.example/help")
///     .shop_url("https://dukkan.example");
/// assert_eq!(b.name(), "Dukkan Home");
/// assert!(b.style().contains("#7a1f5c"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Branding {
    name: String,
    logo_url: Option<String>,
    accent: Accent,
    support_url: Option<String>,
    support_email: Option<String>,
    shop_url: Option<String>,
    review_url: Option<String>,
}

impl Branding {
    /// The shop called `name`, with the pages' own colours and nothing else.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// The logo shown above every page (an `https` image; anything else is ignored).
    pub fn logo_url(mut self, url: impl Into<String>) -> Self {
        self.logo_url = Some(url.into()).filter(|u| u.starts_with("https://"));
        self
    }

    /// The accent colour of buttons, links and the chosen score.
    pub fn accent(mut self, accent: Accent) -> Self {
        self.accent = accent;
        self
    }

    /// Where customers get help (a page).
    pub fn support_url(mut self, url: impl Into<String>) -> Self {
        self.support_url = Some(url.into()).filter(|u| crate::html::safe_url(u));
        self
    }

    /// Where customers get help (an address), when there is no support page.
    pub fn support_email(mut self, email: impl Into<String>) -> Self {
        self.support_email = Some(email.into()).filter(|e| e.contains('@'));
        self
    }

    /// The shop's own site, linked from the thank-you page.
    pub fn shop_url(mut self, url: impl Into<String>) -> Self {
        self.shop_url = Some(url.into()).filter(|u| crate::html::safe_url(u));
        self
    }

    /// Where promoters may leave a review, offered on their thank-you page.
    pub fn review_url(mut self, url: impl Into<String>) -> Self {
        self.review_url = Some(url.into()).filter(|u| crate::html::safe_url(u));
        self
    }

    /// The shop's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The logo's URL.
    pub fn logo(&self) -> Option<&str> {
        self.logo_url.as_deref()
    }

    /// The accent colour.
    pub fn accent_colour(&self) -> Accent {
        self.accent
    }

    /// The support link: the page, else a `mailto:` of the address.
    pub fn support_link(&self) -> Option<String> {
        self.support_url
            .clone()
            .or_else(|| self.support_email.as_ref().map(|e| format!("mailto:{e}")))
    }

    /// The support page alone (for a message's support line; an address is not a link
    /// there).
    pub fn support_url_only(&self) -> Option<String> {
        self.support_url.clone()
    }

    /// The shop's site.
    pub fn shop(&self) -> Option<&str> {
        self.shop_url.as_deref()
    }

    /// The review page.
    pub fn review(&self) -> Option<&str> {
        self.review_url.as_deref()
    }

    /// The stylesheet that puts the accent on the pages, a second `<style>` after
    /// [`crate::html::STYLE`] (the Content Security Policy allows it by its hash too).
    pub fn style(&self) -> String {
        let a = self.accent;
        format!(
            "a.button, button.button, .point input:checked + span {{ background: {a}; border-color: {a}; }} a, button.link {{ color: {a}; }} ol.timeline li.current {{ border-inline-start-color: {a}; }}"
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn contrast_matches_the_wcag_reference_values() {
        // WCAG 2.x: black on white is 21:1; #767676 is the lightest grey passing 4.5:1
        // (4.54:1) and #777777 fails (4.48:1).
        let black = Accent::new("#000").unwrap();
        assert!((black.contrast_with_white() - 21.0).abs() < 1e-9);
        let grey = Accent::new("#767676").unwrap();
        assert!((grey.contrast_with_white() - 4.54).abs() < 0.01);
        assert!(matches!(
            Accent::new("#777777"),
            Err(AccentError::Unreadable { .. })
        ));
    }

    #[test]
    fn an_unreadable_accent_is_refused_with_a_readable_suggestion() {
        let Err(AccentError::Unreadable {
            ratio, suggestion, ..
        }) = Accent::new("#ffd700")
        else {
            panic!("gold on white passes?")
        };
        assert!(ratio < 2.0);
        let s = Accent::new(&suggestion).unwrap();
        assert!(s.contrast_with_white() >= MIN_CONTRAST);
        assert_eq!(Accent::readable("#ffd700").unwrap(), s);
        // A readable colour is kept as it is.
        assert_eq!(Accent::readable("#0b57d0").unwrap(), Accent::DEFAULT);
    }

    #[test]
    fn colours_must_be_hex() {
        for bad in ["red", "#12345", "0b57d0", "#ggg", "#0b57d0ff"] {
            assert!(
                matches!(Accent::new(bad), Err(AccentError::Syntax(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_safe_links_are_kept() {
        let b = Branding::new("S")
            .logo_url("http://insecure.example/logo.png")
            .support_url("javascript:alert(1)")
            .support_email("help@shop.example");
        assert_eq!(b.logo(), None);
        assert_eq!(
            b.support_link().as_deref(),
            Some("mailto:help@shop.example")
        );
    }
}
