//! Whether a message looks at the value of an argument it shows.
//!
//! HTML is formatted with a placeholder for each shown value (filled in escaped and
//! wrapped afterwards), so Fluent never sees the values themselves. A wording that selects
//! on a shown value (`{ $kind -> [NPS] … *[other] … }`) or passes one to a function or a
//! term, as a shop's own catalog may, would then always take its default variant. Such a
//! message is formatted with its values instead (see `Localizer::render_inner`).

use fluent_syntax::ast::{CallArguments, Expression, InlineExpression, Pattern, PatternElement};

use super::{Arg, Args, Bundle};

/// Whether formatting `pattern` depends on the value of an argument it shows (one of
/// `args` that is not a [`Arg::Flag`]): a selector on it, or it passed to a function or a
/// term, here or in a message it references.
pub(super) fn looks_at_shown_values(bundle: &Bundle, pattern: &Pattern<&str>, args: &Args) -> bool {
    let shown = |name: &str| matches!(args.get(name), Some(a) if !matches!(a, Arg::Flag(_)));
    Walk {
        bundle,
        shown: &shown,
    }
    .pattern(pattern, 0)
}

/// How deep message references are followed; deeper counts as looking (formatted with the
/// values, which is always right).
const MAX_DEPTH: u8 = 8;

struct Walk<'a> {
    bundle: &'a Bundle,
    shown: &'a dyn Fn(&str) -> bool,
}

impl Walk<'_> {
    fn pattern(&self, p: &Pattern<&str>, depth: u8) -> bool {
        if depth > MAX_DEPTH {
            return true;
        }
        p.elements.iter().any(|e| match e {
            PatternElement::TextElement { .. } => false,
            PatternElement::Placeable { expression } => self.expression(expression, depth),
        })
    }

    fn expression(&self, e: &Expression<&str>, depth: u8) -> bool {
        match e {
            Expression::Select { selector, variants } => {
                self.decides(selector, depth)
                    || variants.iter().any(|v| self.pattern(&v.value, depth))
            }
            Expression::Inline(i) => self.shows(i, depth),
        }
    }

    /// An expression whose value is shown.
    fn shows(&self, i: &InlineExpression<&str>, depth: u8) -> bool {
        match i {
            InlineExpression::StringLiteral { .. }
            | InlineExpression::NumberLiteral { .. }
            | InlineExpression::VariableReference { .. } => false,
            InlineExpression::FunctionReference { arguments, .. } => {
                self.arguments(arguments, depth)
            }
            InlineExpression::TermReference { arguments, .. } => {
                arguments.as_ref().is_some_and(|a| self.arguments(a, depth))
            }
            InlineExpression::MessageReference { id, attribute } => {
                let Some(message) = self.bundle.get_message(id.name) else {
                    return false;
                };
                let pattern = match attribute {
                    Some(a) => message.get_attribute(a.name).map(|a| a.value()),
                    None => message.value(),
                };
                pattern.is_some_and(|p| self.pattern(p, depth + 1))
            }
            InlineExpression::Placeable { expression } => self.expression(expression, depth),
        }
    }

    /// An expression whose value decides something (a selector, an argument).
    fn decides(&self, i: &InlineExpression<&str>, depth: u8) -> bool {
        match i {
            InlineExpression::VariableReference { id } => (self.shown)(id.name),
            InlineExpression::Placeable { expression } => match expression.as_ref() {
                Expression::Inline(inner) => self.decides(inner, depth),
                select => self.expression(select, depth),
            },
            other => self.shows(other, depth),
        }
    }

    fn arguments(&self, a: &CallArguments<&str>, depth: u8) -> bool {
        a.positional.iter().any(|p| self.decides(p, depth))
            || a.named.iter().any(|n| self.decides(&n.value, depth))
    }
}
