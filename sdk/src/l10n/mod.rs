//! Localization: message catalogs (Fluent) for `en`, `ar`, `tr`, `th`, `pt-BR` and `es`,
//! locale fallback, number/money/date formatting ([`format`](mod@format)) and bidirectional text done
//! right for SMS, WhatsApp and HTML ([`bidi`]).
//!
//! ```
//! use aftercare::l10n::{Args, Dir, Format, Localizer};
//!
//! let l10n = Localizer::new().with_default_locale("tr");
//! let args = Args::new()
//!     .text("first_name", "Layla")
//!     .ltr("order_number", "#1001")
//!     .text("carrier", "Aramex")
//!     .ltr("tracking_number", "AX12345678")
//!     .url("tracking_url", "https://t.example/AX12345678");
//! let r = l10n.render_as(Format::Sms, "ar-SA", "tracking-shipped", &args).unwrap();
//! assert_eq!((r.locale_used.as_str(), r.dir), ("ar", Dir::Rtl));
//! assert!(r.text.contains("\u{2066}AX12345678\u{2069}"));
//! assert!(r.text.lines().any(|l| l == "https://t.example/AX12345678"));
//! ```
//!
//! # Fallback
//!
//! A message is looked up in the requested locale (`pt-BR`), then in the catalog of its
//! language (`pt-PT` → `pt-BR`, `ar-EG` → `ar`, `es-MX` → `es`), then in the shop's default
//! locale ([`Localizer::with_default_locale`]), then in `en`. [`Rendered::locale_used`] says
//! which one answered.
//!
//! # Arguments
//!
//! Every argument is typed ([`Arg`]), because how it is isolated depends on what it is:
//! - [`Arg::Text`]: words from outside (a first name, a product title, a carrier or shop
//!   name, a formatted date or amount). Explicit bidi controls in it are removed.
//! - [`Arg::Ltr`]: identifiers that are always left-to-right (order numbers, tracking numbers).
//! - [`Arg::Url`]: a link. Refused if it contains whitespace, control or bidi characters.
//!
//! `first_name`, `carrier`, `tracking_number`, `eta` and `comment` may be left out or blank
//! ([`OPTIONAL_ARGS`]): every message has a wording without each of them, selected by
//! `has_first_name` (or `has_name`), `has_carrier`, … which the localizer sets itself.
//!
//! The built-in messages and their arguments:
//!
//! | id | arguments |
//! |---|---|
//! | `tracking-shipped` | `first_name`, `order_number`, `carrier`, `tracking_number`, `tracking_url` |
//! | `tracking-out-for-delivery` | `first_name`, `order_number`, `tracking_url` |
//! | `tracking-delivered` | `first_name`, `order_number` |
//! | `tracking-attempted`, `tracking-exception` | `first_name`, `order_number`, `carrier`, `tracking_url` |
//! | `tracking-delayed` | `first_name`, `order_number`, `eta` (a formatted date), `tracking_url` |
//! | `content-tutorial` | `first_name`, `product_title`, `url` |
//! | `support-link` | `shop_name`, `url` |
//! | `survey-nps-invite` | `first_name`, `shop_name`, `url`, `replies` (a flag) |
//! | `survey-csat-invite`, `survey-ces-invite` | `first_name`, `order_number`, `url`, `replies` |
//! | `survey-reask`, `survey-clarify` | `score_min`, `score_max` (formatted numbers) |
//! | `survey-thanks` | `first_name` |
//! | `survey-closed` | none |
//! | `optout-confirmed`, `optin-confirmed` | `shop_name` |
//! | `help-reply` | `shop_name`, `url` |
//! | `email-subject-shipped` | `order_number` |
//! | `email-subject-survey`, `quiet-footer` | `shop_name` |
//! | `stop-hint` | none |
//!
//! # Bidirectional text: what each [`Format`] produces
//!
//! Fluent's own isolation (FSI/PDI around *every* placeable, `set_use_isolating`) is turned
//! **off**: it would wrap URLs too, and Android's link detection counts U+2068/U+2069 as part
//! of a URL (its IRI character range includes them), so a tapped link would open the wrong
//! address; and in an English SMS it would force UCS-2 encoding, halving the characters per
//! segment. Instead each argument is isolated according to its type:
//!
//! - **SMS, WhatsApp, email text part** (plain text, identical rules): in a right-to-left
//!   message, `Ltr` arguments are wrapped in LRI … PDI (U+2066 … U+2069) and `Text`
//!   arguments in FSI … PDI (U+2068 … U+2069), so `#1001` or `AX123` keep their order inside
//!   Arabic. In a left-to-right message, arguments are isolated only when they contain
//!   right-to-left letters (an Arabic name in an English sentence), so plain-Latin messages
//!   stay GSM-7 friendly. **URLs are never wrapped and never touched**: every catalog puts a
//!   URL alone on its own line (a test checks this for every message and locale), so the
//!   line's direction is set by the URL itself and the bytes of the link are exactly those
//!   given.
//! - **HTML**: the message is escaped and wrapped in `<div dir="rtl" lang="ar">` (or
//!   `dir="ltr"`); `Text` arguments become `<bdi>…</bdi>`, `Ltr` arguments
//!   `<bdi dir="ltr">…</bdi>`, URLs `<a href="…" dir="ltr">…</a>`; line breaks become `<br>`.
//!   Everything from arguments is escaped.

pub mod bidi;
mod catalogs;
pub use catalogs::{Catalogs, StopHint};
pub mod format;
mod shown;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

use crate::Error;

/// Where an email's HTML part ends and its footer (why the customer receives it, how to
/// stop) begins: a flow that adds a block of its own (a survey's score buttons) puts it
/// before this mark, so the footer stays last.
pub const EMAIL_FOOTER_MARK: &str = "<!-- aftercare:footer -->";

/// The built-in catalogs, in the order language fallback prefers them.
pub const BUILTIN_LOCALES: [&str; 6] = ["en", "ar", "tr", "th", "pt-BR", "es"];

const CATALOGS: [(&str, &str); 6] = [
    (
        "en",
        concat!(
            include_str!("../../locales/en.ftl"),
            "\n",
            include_str!("../../locales/en.ui.ftl")
        ),
    ),
    (
        "ar",
        concat!(
            include_str!("../../locales/ar.ftl"),
            "\n",
            include_str!("../../locales/ar.ui.ftl")
        ),
    ),
    (
        "tr",
        concat!(
            include_str!("../../locales/tr.ftl"),
            "\n",
            include_str!("../../locales/tr.ui.ftl")
        ),
    ),
    (
        "th",
        concat!(
            include_str!("../../locales/th.ftl"),
            "\n",
            include_str!("../../locales/th.ui.ftl")
        ),
    ),
    (
        "pt-BR",
        concat!(
            include_str!("../../locales/pt-BR.ftl"),
            "\n",
            include_str!("../../locales/pt-BR.ui.ftl")
        ),
    ),
    (
        "es",
        concat!(
            include_str!("../../locales/es.ftl"),
            "\n",
            include_str!("../../locales/es.ui.ftl")
        ),
    ),
];

/// Arguments a message may have to do without. For each, the localizer sets a selector
/// `has_<name>` (`0` when the argument is missing or blank, `1` otherwise; `has_name` is the
/// older spelling of `has_first_name`), and every built-in message has a wording for each
/// of them being absent, so nothing renders as an empty slot (a test renders every
/// combination). A missing or blank optional argument is not passed to Fluent at all: a
/// wording that still uses it fails to render rather than leaving a gap.
pub const OPTIONAL_ARGS: [&str; 5] = ["first_name", "carrier", "tracking_number", "eta", "comment"];

/// The `has_…` selector of each of [`OPTIONAL_ARGS`], in the same order.
const HAS_OPTIONAL: [&str; 5] = [
    "has_first_name",
    "has_carrier",
    "has_tracking_number",
    "has_eta",
    "has_comment",
];

/// Which way a text runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Left to right.
    Ltr,
    /// Right to left (Arabic).
    Rtl,
}

impl Dir {
    /// The HTML `dir` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::Ltr => "ltr",
            Dir::Rtl => "rtl",
        }
    }
}

/// The direction of a locale's script.
///
/// ```
/// use aftercare::l10n::{direction, Dir};
/// assert_eq!(direction("ar-SA"), Dir::Rtl);
/// assert_eq!(direction("tr"), Dir::Ltr);
/// ```
pub fn direction(locale: &str) -> Dir {
    let lang = locale
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match lang.as_str() {
        "ar" | "he" | "iw" | "fa" | "ur" | "ps" | "sd" | "ug" | "yi" | "dv" | "ckb" => Dir::Rtl,
        _ => Dir::Ltr,
    }
}

/// Where a rendered message goes; decides escaping and bidi isolation (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// An SMS body.
    Sms,
    /// A WhatsApp text (same rules as SMS).
    WhatsApp,
    /// The `text/plain` part of an email (same rules as SMS).
    EmailText,
    /// HTML (an email's `text/html` part, a page).
    Html,
}

/// One argument of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Arg {
    /// Words of any direction (a name, a title, a formatted date or amount).
    Text(String),
    /// An identifier that always reads left to right (order or tracking number).
    Ltr(String),
    /// A link, emitted byte for byte.
    Url(String),
    /// A yes/no a wording selects on (`[0]` no, `*[other]` yes), never shown itself.
    Flag(bool),
}

/// The arguments of a message, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args(Vec<(String, Arg)>);

impl Args {
    /// No arguments.
    pub fn new() -> Self {
        Self::default()
    }

    fn with(mut self, name: &str, arg: Arg) -> Self {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.to_owned(), arg));
        self
    }

    /// Adds a text argument.
    pub fn text(self, name: &str, value: impl Into<String>) -> Self {
        self.with(name, Arg::Text(value.into()))
    }

    /// Adds a left-to-right identifier.
    pub fn ltr(self, name: &str, value: impl Into<String>) -> Self {
        self.with(name, Arg::Ltr(value.into()))
    }

    /// Adds a URL.
    pub fn url(self, name: &str, value: impl Into<String>) -> Self {
        self.with(name, Arg::Url(value.into()))
    }

    /// Adds a yes/no for a selector (`replies`: whether replies on this channel are read).
    pub fn flag(self, name: &str, value: bool) -> Self {
        self.with(name, Arg::Flag(value))
    }

    /// An argument by name.
    pub fn get(&self, name: &str) -> Option<&Arg> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    /// The arguments in the order added.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arg)> {
        self.0.iter().map(|(n, a)| (n.as_str(), a))
    }
}

/// A rendered message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rendered {
    /// The catalog that answered (after fallback).
    pub locale_used: String,
    /// The text (or HTML).
    pub text: String,
    /// The direction of `locale_used`.
    pub dir: Dir,
}

/// Built-in catalog a locale resolves to by language, `en` when none matches.
pub(crate) fn resolve_builtin(locale: &str) -> &'static str {
    let norm = locale.trim().replace('_', "-");
    if let Some(exact) = BUILTIN_LOCALES
        .iter()
        .find(|l| l.eq_ignore_ascii_case(&norm))
    {
        return exact;
    }
    let lang = norm.split('-').next().unwrap_or_default();
    BUILTIN_LOCALES
        .iter()
        .find(|l| {
            l.split('-')
                .next()
                .is_some_and(|x| x.eq_ignore_ascii_case(lang))
        })
        .copied()
        .unwrap_or("en")
}

type Bundle = FluentBundle<FluentResource>;

fn new_bundle(locale: &str) -> Bundle {
    let id: LanguageIdentifier = locale.parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    b.set_use_isolating(false);
    b
}

/// Renders catalog messages in a customer's locale, with fallback.
pub struct Localizer {
    bundles: Vec<(String, Bundle)>,
    default_locale: String,
}

impl std::fmt::Debug for Localizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Localizer")
            .field(
                "locales",
                &self.bundles.iter().map(|(l, _)| l).collect::<Vec<_>>(),
            )
            .field("default_locale", &self.default_locale)
            .finish()
    }
}

impl Default for Localizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Localizer {
    /// The built-in catalogs (embedded in the binary), default locale `en`.
    pub fn new() -> Self {
        let mut bundles = Vec::new();
        for (locale, source) in CATALOGS {
            let resource = match FluentResource::try_new(source.to_owned()) {
                Ok(r) => r,
                Err((r, errors)) => {
                    tracing::error!(locale, ?errors, "built-in catalog has syntax errors");
                    r
                }
            };
            let mut bundle = new_bundle(locale);
            if let Err(errors) = bundle.add_resource(resource) {
                tracing::error!(
                    locale,
                    ?errors,
                    "built-in catalog could not be loaded whole"
                );
            }
            bundles.push((locale.to_owned(), bundle));
        }
        Self {
            bundles,
            default_locale: "en".into(),
        }
    }

    /// Sets the shop's default locale, tried after the customer's.
    pub fn with_default_locale(mut self, locale: impl Into<String>) -> Self {
        self.default_locale = locale.into();
        self
    }

    /// Adds a Fluent catalog for a locale (a new one, or overriding messages of an existing
    /// one, e.g. a shop's own wording).
    pub fn add_catalog(&mut self, locale: &str, source: &str) -> Result<(), Error> {
        let resource = FluentResource::try_new(source.to_owned()).map_err(|(_, errors)| {
            Error::Config(format!(
                "the Fluent catalog for `{locale}` has syntax errors: {errors:?}; fix the .ftl source"
            ))
        })?;
        match self
            .bundles
            .iter_mut()
            .find(|(l, _)| l.eq_ignore_ascii_case(locale))
        {
            Some((_, bundle)) => bundle.add_resource_overriding(resource),
            None => {
                let mut bundle = new_bundle(locale);
                bundle.add_resource_overriding(resource);
                self.bundles.push((locale.to_owned(), bundle));
            }
        }
        Ok(())
    }

    /// The catalogs tried for a requested locale, in order (without duplicates).
    ///
    /// ```
    /// let l = aftercare::l10n::Localizer::new().with_default_locale("tr");
    /// assert_eq!(l.fallback_chain("pt-PT"), vec!["pt-BR", "tr", "en"]);
    /// assert_eq!(l.fallback_chain("de-DE"), vec!["tr", "en"]);
    /// ```
    pub fn fallback_chain(&self, locale: &str) -> Vec<&str> {
        let mut chain: Vec<&str> = Vec::new();
        let default = self.default_locale.clone();
        for wanted in [locale, default.as_str(), "en"] {
            let norm = wanted.trim().replace('_', "-");
            let lang = norm.split('-').next().unwrap_or_default().to_owned();
            let exact = self
                .bundles
                .iter()
                .find(|(l, _)| l.eq_ignore_ascii_case(&norm));
            let by_lang = self.bundles.iter().find(|(l, _)| {
                l.split('-')
                    .next()
                    .is_some_and(|x| x.eq_ignore_ascii_case(&lang))
            });
            for (l, _) in exact.into_iter().chain(by_lang) {
                if !chain.contains(&l.as_str()) {
                    chain.push(l.as_str());
                }
            }
        }
        chain
    }

    /// Renders a message as plain text for SMS (see [`Localizer::render_as`]).
    pub fn render(&self, locale: &str, message_id: &str, args: &Args) -> Result<Rendered, Error> {
        self.render_as(Format::Sms, locale, message_id, args)
    }

    /// Renders a message for a channel format, in the first locale of the fallback chain
    /// that has it.
    ///
    /// Errors: [`Error::NotFound`] when no catalog has the message; [`Error::Config`] when
    /// an argument the message uses is missing or a URL argument is unusable.
    pub fn render_as(
        &self,
        format: Format,
        locale: &str,
        message_id: &str,
        args: &Args,
    ) -> Result<Rendered, Error> {
        self.render_prepared(format, locale, message_id, &mut Prepared::new(args)?)
    }

    /// Like [`Localizer::render_as`], with arguments [prepared](Prepared) once for the
    /// several messages of one request (an email's text, HTML, subject and blocks): the URL
    /// check, the language fallback and Fluent's arguments are worked out on first use and
    /// reused.
    ///
    /// ```
    /// use aftercare::l10n::{Args, Format, Localizer, Prepared};
    /// let l10n = Localizer::new();
    /// let args = Args::new().text("shop_name", "Dukkan").ltr("order_number", "#1001");
    /// let mut prepared = Prepared::new(&args).unwrap();
    /// let subject = l10n.render_prepared(Format::EmailText, "tr", "email-subject-shipped", &mut prepared).unwrap();
    /// let footer = l10n.render_prepared(Format::Html, "tr", "quiet-footer", &mut prepared).unwrap();
    /// assert!(subject.text.contains("#1001"));
    /// assert!(footer.text.contains("Dukkan"));
    /// ```
    pub fn render_prepared(
        &self,
        format: Format,
        locale: &str,
        message_id: &str,
        prepared: &mut Prepared<'_>,
    ) -> Result<Rendered, Error> {
        self.render_inner(format, locale, message_id, prepared, false)
    }

    /// The bundles of `locale`'s fallback chain, as indices into `self.bundles`.
    fn chain_indices(&self, locale: &str) -> Vec<usize> {
        self.fallback_chain(locale)
            .into_iter()
            .filter_map(|loc| self.bundles.iter().position(|(l, _)| l == loc))
            .collect()
    }

    /// [`Localizer::render_prepared`]; with `lenient`, a missing optional argument that a
    /// wording uses without its `has_…` selector renders blank instead of failing (for
    /// shops' own catalogs written before the selectors existed).
    pub(crate) fn render_inner(
        &self,
        format: Format,
        locale: &str,
        message_id: &str,
        prepared: &mut Prepared<'_>,
        lenient: bool,
    ) -> Result<Rendered, Error> {
        if prepared.chain.as_ref().is_none_or(|(l, _)| l != locale) {
            prepared.chain = Some((locale.to_owned(), self.chain_indices(locale)));
        }
        let args = prepared.args;
        let tried = prepared.chain.as_ref().map_or(0, |(_, c)| c.len());
        for k in 0..tried {
            let Some((loc, bundle)) = prepared
                .chain
                .as_ref()
                .and_then(|(_, c)| c.get(k))
                .and_then(|&i| self.bundles.get(i))
            else {
                continue;
            };
            let Some(pattern) = bundle.get_message(message_id).and_then(|m| m.value()) else {
                continue;
            };
            let dir = direction(loc);
            // HTML shows placeholders, filled in escaped and wrapped; a wording that looks at
            // a shown value is formatted with the values (`shown.rs`).
            let html = format == Format::Html;
            let placeholders = html && !shown::looks_at_shown_values(bundle, pattern, args);
            let values = if placeholders {
                Values::Placeholders
            } else {
                Values::Plain(dir)
            };
            let mut errors = Vec::new();
            let text = if lenient {
                let fargs = fluent_args(args, values, true);
                bundle
                    .format_pattern(pattern, Some(&fargs), &mut errors)
                    .into_owned()
            } else {
                bundle
                    .format_pattern(pattern, Some(prepared.fluent(values)), &mut errors)
                    .into_owned()
            };
            if !errors.is_empty() {
                return Err(Error::Config(format!(
                    "message `{message_id}` in `{loc}` could not be rendered: {errors:?}; pass every argument it uses"
                )));
            }
            let text = if placeholders {
                finish_html(&text, Some(args), loc, dir)
            } else if html {
                finish_html(&text, None, loc, dir)
            } else {
                text
            };
            return Ok(Rendered {
                locale_used: loc.clone(),
                text,
                dir,
            });
        }
        Err(Error::NotFound {
            what: "message",
            id: message_id.to_owned(),
        })
    }

    /// The message ids of a catalog.
    pub fn message_ids(&self, locale: &str) -> Vec<String> {
        let mut ids = Vec::new();
        for (l, source) in CATALOGS {
            if l == locale {
                for line in source.lines() {
                    if let Some((id, _)) = line.split_once(" =")
                        && !id.is_empty()
                        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    {
                        ids.push(id.to_owned());
                    }
                }
            }
        }
        ids
    }
}

/// A message's arguments prepared for the several messages of one request
/// ([`Localizer::render_prepared`]): an email formats up to 13 catalog messages with the
/// same arguments, and building Fluent's arguments (their `has_…` selectors, the values
/// isolated for the text's direction, the HTML placeholders) once instead of 13 times is
/// most of what rendering it costs.
pub struct Prepared<'a> {
    args: &'a Args,
    /// The locale asked for and its fallback chain (indices of the localizer's bundles).
    chain: Option<(String, Vec<usize>)>,
    /// Fluent's arguments with the values for left-to-right and right-to-left text, and
    /// with HTML placeholders, each built when first needed.
    fluent: [Option<FluentArgs<'a>>; 3],
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The arguments are a customer's data: their names only.
        f.debug_struct("Prepared")
            .field(
                "args",
                &self.args.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<'a> Prepared<'a> {
    /// Prepares `args`.
    ///
    /// Errors: [`Error::Config`] when a URL argument is empty or contains whitespace,
    /// control or bidi characters.
    pub fn new(args: &'a Args) -> Result<Self, Error> {
        for (name, arg) in args.iter() {
            if let Arg::Url(u) = arg
                && (u.is_empty()
                    || u.chars()
                        .any(|c| c.is_whitespace() || c.is_control() || bidi::is_bidi_control(c)))
            {
                return Err(Error::Config(format!(
                    "URL argument `{name}` is empty or contains whitespace, control or bidi characters; pass the URL exactly as it should be opened"
                )));
            }
        }
        Ok(Self {
            args,
            chain: None,
            fluent: [None, None, None],
        })
    }

    /// The arguments prepared.
    pub fn args(&self) -> &'a Args {
        self.args
    }

    fn fluent(&mut self, values: Values) -> &FluentArgs<'a> {
        let slot = match values {
            Values::Plain(Dir::Ltr) => 0,
            Values::Plain(Dir::Rtl) => 1,
            Values::Placeholders => 2,
        };
        let args = self.args;
        self.fluent[slot].get_or_insert_with(|| fluent_args(args, values, false))
    }
}

/// How the shown values are passed to Fluent.
#[derive(Clone, Copy)]
enum Values {
    /// As plain text isolated for a text of this direction.
    Plain(Dir),
    /// As placeholders (`U+E000 index U+E001`), filled in escaped afterwards (HTML).
    Placeholders,
}

/// Fluent's arguments for `args`: the `has_…` selectors, `replies` off unless passed, the
/// flags, and the shown values; with `lenient`, a missing optional value as blank text.
fn fluent_args(args: &Args, values: Values, lenient: bool) -> FluentArgs<'_> {
    let present = |name: &str| matches!(args.get(name), Some(Arg::Text(n) | Arg::Ltr(n) | Arg::Url(n)) if !n.trim().is_empty());
    // Names borrowed, not copied.
    let mut fargs = FluentArgs::with_capacity(OPTIONAL_ARGS.len() * 2 + args.0.len() + 2);
    fargs.set(
        "has_name",
        FluentValue::from(i64::from(present("first_name"))),
    );
    for (name, has) in OPTIONAL_ARGS.iter().zip(HAS_OPTIONAL) {
        fargs.set(has, FluentValue::from(i64::from(present(name))));
    }
    // Without the channel's word, a wording never promises that replies are read.
    fargs.set("replies", FluentValue::from(0));
    for (i, (name, arg)) in args.iter().enumerate() {
        if let Arg::Flag(on) = arg {
            fargs.set(name, FluentValue::from(i64::from(*on)));
            continue;
        }
        // A blank optional value is absent: its `has_…` selector is 0 and a message
        // that still used it would fail to render instead of showing an empty slot.
        if OPTIONAL_ARGS.contains(&name) && !present(name) {
            continue;
        }
        let value = match values {
            Values::Placeholders => format!("\u{E000}{i}\u{E001}"),
            Values::Plain(dir) => plain_value(arg, dir),
        };
        fargs.set(name, FluentValue::from(value));
    }
    if lenient {
        for name in OPTIONAL_ARGS {
            if !present(name) {
                fargs.set(name, FluentValue::from(""));
            }
        }
    }
    fargs
}

fn plain_value(arg: &Arg, dir: Dir) -> String {
    match arg {
        Arg::Url(u) => u.clone(),
        Arg::Flag(_) => String::new(),
        Arg::Text(t) => {
            let t = bidi::strip_controls(t);
            if dir == Dir::Rtl || bidi::has_rtl(&t) {
                bidi::isolate(bidi::FSI, &t)
            } else {
                t
            }
        }
        Arg::Ltr(t) => {
            let t = bidi::strip_controls(t);
            if dir == Dir::Rtl || bidi::has_rtl(&t) {
                bidi::isolate(bidi::LRI, &t)
            } else {
                t
            }
        }
    }
}

fn html_value(arg: &Arg) -> String {
    match arg {
        Arg::Flag(_) => String::new(),
        Arg::Text(t) => format!("<bdi>{}</bdi>", bidi::escape_html(&bidi::strip_controls(t))),
        Arg::Ltr(t) => format!(
            "<bdi dir=\"ltr\">{}</bdi>",
            bidi::escape_html(&bidi::strip_controls(t))
        ),
        Arg::Url(u) => {
            let e = bidi::escape_html(u);
            format!("<a href=\"{e}\" dir=\"ltr\">{e}</a>")
        }
    }
}

/// `template` escaped, its lines broken, and wrapped in a `<div>` of its direction and
/// language. With `args`, its placeholders are filled with their escaped values; without
/// (formatted with its values already), nothing in it is taken for a placeholder.
fn finish_html(template: &str, args: Option<&Args>, locale: &str, dir: Dir) -> String {
    // Only the arguments the template uses are escaped, when met.
    let value = |i: usize| args.and_then(|a| a.0.get(i)).map(|(_, a)| html_value(a));
    let escaped = bidi::escape_html(template);
    let mut body = String::with_capacity(escaped.len() + 64);
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        match c {
            '\u{E000}' if args.is_some() => {
                let n: String = chars.by_ref().take_while(|c| *c != '\u{E001}').collect();
                if let Some(v) = n.parse().ok().and_then(value) {
                    body.push_str(&v);
                }
            }
            '\n' => body.push_str("<br>\n"),
            c => body.push(c),
        }
    }
    format!(
        "<div dir=\"{}\" lang=\"{}\">{}</div>",
        dir.as_str(),
        bidi::escape_html(locale),
        body
    )
}

#[cfg(test)]
mod render_all;
#[cfg(test)]
mod tests;
