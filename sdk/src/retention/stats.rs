//! The statistics of the retention report, each an established method named here.
//!
//! - A proportion (a repeat rate): the **Wilson score interval** (Wilson 1927; Newcombe
//!   1998, "Two-sided confidence intervals for the single proportion", method 3). Unlike the
//!   textbook `p ± 1.96·sqrt(p(1−p)/n)` it stays inside 0–100 % and keeps close to its
//!   nominal coverage for small `n` and rates near 0 or 1, which is where a shop's
//!   breakdowns live.
//! - A difference of two independent proportions (late vs on time): **Newcombe's hybrid
//!   score interval** (Newcombe 1998, "Interval estimation for the difference between
//!   independent proportions", method 10), built from the two Wilson intervals.
//! - Medians (time to second order, inter-purchase interval): the sample median, the mean
//!   of the two middle values for an even count.
//!
//! Every interval is two-sided at 95 % (`z = 1.959963984540054`).

use serde::{Deserialize, Serialize};

/// The standard normal quantile for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A proportion with its Wilson score interval, as fractions (0–1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Proportion {
    /// Successes.
    pub successes: u64,
    /// Trials.
    pub n: u64,
    /// `successes / n`.
    pub p: f64,
    /// Lower bound of the 95 % Wilson interval.
    pub low: f64,
    /// Upper bound of the 95 % Wilson interval.
    pub high: f64,
}

/// The 95 % Wilson score interval of `successes` out of `n`; `None` when `n` is 0 or
/// `successes > n`.
///
/// ```
/// use aftercare::retention::stats::wilson;
/// // Newcombe (1998), single proportion, example 81/263: 0.2553 to 0.3662.
/// let w = wilson(81, 263).unwrap();
/// assert_eq!((format!("{:.4}", w.low), format!("{:.4}", w.high)), ("0.2553".into(), "0.3662".into()));
/// ```
pub fn wilson(successes: u64, n: u64) -> Option<Proportion> {
    if n == 0 || successes > n {
        return None;
    }
    let nf = n as f64;
    let p = successes as f64 / nf;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    Some(Proportion {
        successes,
        n,
        p,
        // At the edges the bound is exactly 0 or 1; rounding must not move it off.
        low: if successes == 0 {
            0.0
        } else {
            (centre - half).max(0.0)
        },
        high: if successes == n {
            1.0
        } else {
            (centre + half).min(1.0)
        },
    })
}

/// A difference of two proportions, `a − b`, with Newcombe's hybrid score interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Difference {
    /// The first group.
    pub a: Proportion,
    /// The second group.
    pub b: Proportion,
    /// `a.p − b.p`.
    pub diff: f64,
    /// Lower bound of the 95 % interval.
    pub low: f64,
    /// Upper bound of the 95 % interval.
    pub high: f64,
}

impl Difference {
    /// Whether the interval excludes zero: the data show a difference at 95 %.
    pub fn is_clear(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// Newcombe's hybrid score interval (method 10) for `a − b`; `None` when either group is
/// empty.
///
/// ```
/// use aftercare::retention::stats::{newcombe, wilson};
/// // Newcombe (1998), difference example (a), 56/70 − 48/80: +0.0524 to +0.3339.
/// let d = newcombe(wilson(56, 70).unwrap(), wilson(48, 80).unwrap());
/// assert_eq!((format!("{:.4}", d.low), format!("{:.4}", d.high)), ("0.0524".into(), "0.3339".into()));
/// ```
pub fn newcombe(a: Proportion, b: Proportion) -> Difference {
    let diff = a.p - b.p;
    let low = diff - ((a.p - a.low).powi(2) + (b.high - b.p).powi(2)).sqrt();
    let high = diff + ((a.high - a.p).powi(2) + (b.p - b.low).powi(2)).sqrt();
    Difference {
        a,
        b,
        diff,
        low: low.max(-1.0),
        high: high.min(1.0),
    }
}

/// The sample median of `values` (sorted here); the mean of the two middle values for an
/// even count; `None` when empty.
///
/// ```
/// use aftercare::retention::stats::median;
/// assert_eq!(median(&mut [5.0, 1.0, 3.0]), Some(3.0));
/// assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
/// ```
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let m = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[m]
    } else {
        (values[m - 1] + values[m]) / 2.0
    })
}

/// The median of a histogram of whole days (`days → count`), by the same rule as
/// [`median`]: the histogram of the inter-purchase intervals is what the store keeps
/// incrementally, and its median is exactly the median of the intervals it counts.
///
/// ```
/// use aftercare::retention::stats::histogram_median;
/// let h = std::collections::BTreeMap::from([(10, 2), (30, 1), (40, 1)]);
/// assert_eq!(histogram_median(&h), Some(20.0)); // 10, 10, 30, 40
/// ```
pub fn histogram_median(histogram: &std::collections::BTreeMap<i64, u64>) -> Option<f64> {
    let total: u64 = histogram.values().sum();
    if total == 0 {
        return None;
    }
    // 0-based ranks of the middle value(s).
    let (r1, r2) = if total % 2 == 1 {
        (total / 2, total / 2)
    } else {
        (total / 2 - 1, total / 2)
    };
    let mut seen = 0u64;
    let mut v1 = None;
    for (&days, &count) in histogram {
        let next = seen + count;
        if v1.is_none() && r1 < next {
            v1 = Some(days as f64);
        }
        if r2 < next {
            return v1.map(|a| (a + days as f64) / 2.0);
        }
        seen = next;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn r4(x: f64) -> String {
        format!("{x:.4}")
    }

    /// Newcombe (1998), "Two-sided confidence intervals for the single proportion",
    /// Table I, method 3 (score interval without continuity correction).
    #[test]
    fn wilson_matches_newcombe_table() {
        for (x, n, low, high) in [
            (81, 263, "0.2553", "0.3662"),
            (15, 148, "0.0624", "0.1605"),
            (0, 20, "0.0000", "0.1611"),
            (1, 29, "0.0061", "0.1718"),
        ] {
            let w = wilson(x, n).unwrap();
            assert_eq!(
                (r4(w.low), r4(w.high)),
                (low.to_owned(), high.to_owned()),
                "{x}/{n}"
            );
        }
        assert_eq!(wilson(0, 0), None);
        assert_eq!(wilson(3, 2), None);
        let all = wilson(20, 20).unwrap();
        assert_eq!((r4(all.low), all.high), ("0.8389".to_owned(), 1.0));
    }

    /// Newcombe (1998), "Interval estimation for the difference between independent
    /// proportions", Table II, method 10 (hybrid score, no continuity correction).
    #[test]
    fn newcombe_matches_table() {
        for ((x1, n1), (x2, n2), low, high) in [
            ((56, 70), (48, 80), "0.0524", "0.3339"),
            ((9, 10), (3, 10), "0.1705", "0.8090"),
            ((6, 7), (2, 7), "0.0582", "0.8062"),
            ((5, 56), (0, 29), "-0.0381", "0.1926"),
        ] {
            let d = newcombe(wilson(x1, n1).unwrap(), wilson(x2, n2).unwrap());
            assert_eq!(
                (r4(d.low), r4(d.high)),
                (low.to_owned(), high.to_owned()),
                "{x1}/{n1} - {x2}/{n2}"
            );
        }
    }

    /// A hand-computed case: 1 of 2. p = 0.5, z² = 3.8415; centre = (0.5 + 0.9604)/2.9207
    /// = 0.5; half = 1.95996/2.92073 × sqrt(0.125 + 0.24009) = 0.6710 × 0.60423 = 0.4054.
    #[test]
    fn wilson_by_hand() {
        let w = wilson(1, 2).unwrap();
        assert_eq!(
            (r4(w.low), r4(w.high)),
            ("0.0945".to_owned(), "0.9055".to_owned())
        );
    }

    #[test]
    fn clear_difference() {
        let d = newcombe(wilson(56, 70).unwrap(), wilson(48, 80).unwrap());
        assert!(d.is_clear());
        let d = newcombe(wilson(5, 56).unwrap(), wilson(0, 29).unwrap());
        assert!(!d.is_clear());
    }

    #[test]
    fn histogram_median_equals_sorted_median() {
        // Every small histogram over three values with up to three counts each.
        for a in 0..4u64 {
            for b in 0..4u64 {
                for c in 0..4u64 {
                    let h = std::collections::BTreeMap::from([(2i64, a), (5, b), (11, c)])
                        .into_iter()
                        .filter(|(_, n)| *n > 0)
                        .collect();
                    let mut flat: Vec<f64> = [(2.0, a), (5.0, b), (11.0, c)]
                        .iter()
                        .flat_map(|(v, n)| std::iter::repeat_n(*v, *n as usize))
                        .collect();
                    assert_eq!(histogram_median(&h), median(&mut flat), "{a} {b} {c}");
                }
            }
        }
    }
}
