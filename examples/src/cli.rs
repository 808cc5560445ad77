//! The real-store subcommands of `tracking-links`: `check-config`, `run`, `backfill` and
//! `schema`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;

use aftercare::store::{Decision, LedgerEntry};

use crate::config::{TrackingLinksConfig, check, schema_text};

/// The real-store subcommands.
#[derive(Subcommand, Debug)]
pub enum RealCommand {
    /// Check a configuration file and report every mistake, each with its line and column.
    CheckConfig {
        /// The TOML file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Serve a real store (Shopify, WooCommerce or BigCommerce) from a configuration file,
    /// until Ctrl-C.
    Run {
        /// The TOML file.
        #[arg(long)]
        config: PathBuf,
    },
    /// List (or, with --send, enqueue) the messages due for shipments already in flight.
    Backfill {
        /// Orders updated since this date (`2026-03-01` or RFC 3339).
        #[arg(long, value_parser = parse_since)]
        since: DateTime<Utc>,
        /// Only list what would be sent (the default).
        #[arg(long, conflicts_with = "send")]
        dry_run: bool,
        /// Hand each shipment to the tracking flow (the outbox dedupes).
        #[arg(long)]
        send: bool,
        /// The TOML file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Print the configuration file's JSON Schema.
    Schema,
}

/// Whether output may carry terminal styling: only on a terminal, and never when
/// `NO_COLOR` is set to anything non-empty (no-color.org).
pub fn color_allowed(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// A story heading for the demos: bold on a terminal, plain text otherwise.
pub fn heading(line: &str) -> String {
    use std::io::IsTerminal as _;
    let no_color = std::env::var_os("NO_COLOR");
    if color_allowed(std::io::stdout().is_terminal(), no_color.as_deref()) {
        format!("\n\x1b[1m── {line}\x1b[0m")
    } else {
        format!("\n── {line}")
    }
}

/// The ledger rows counted by decision, in the order a message meets them, decisions that
/// occur only: `4 enqueued, 1 uncertain, 1 reconciled, 3 sent`. Uncertain sends and how
/// each was resolved (reconciled, resending, abandoned) count like any other decision.
pub fn ledger_totals(rows: &[LedgerEntry]) -> String {
    Decision::ALL
        .iter()
        .filter_map(|&d| {
            let n = rows.iter().filter(|r| r.decision == d).count();
            (n > 0).then(|| format!("{n} {}", d.as_str()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time.
pub fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("`{s}` is not a date (`2026-03-01`) or an RFC 3339 time"))
}

/// Reads and checks a file, printing every problem as `file:line:column: path: message`.
pub fn load(file: &Path) -> Result<TrackingLinksConfig, ExitCode> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: cannot be read: {e}", file.display());
            return Err(ExitCode::FAILURE);
        }
    };
    check(&text).map_err(|problems| {
        for p in &problems {
            eprintln!("{}:{p}", file.display());
        }
        eprintln!(
            "{}: {} problem{}",
            file.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        ExitCode::FAILURE
    })
}

/// `--check-config FILE`: `0` when the file is good, `1` with every problem otherwise.
pub fn check_config(file: &Path) -> ExitCode {
    match load(file) {
        Ok(_) => {
            println!("{}: ok", file.display());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

impl RealCommand {
    /// Runs the subcommand.
    pub async fn run(self) -> ExitCode {
        let result = match self {
            RealCommand::Schema => {
                print!("{}", schema_text());
                Ok(())
            }
            RealCommand::CheckConfig { config } => return check_config(&config),
            RealCommand::Run { config } => {
                let cfg = match load(&config) {
                    Ok(c) => c,
                    Err(code) => return code,
                };
                // Listen for Ctrl-C from now on (the handler is installed on first poll),
                // not only once the server is up.
                let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
                if let Some(r) = futures::FutureExt::now_or_never(&mut ctrl_c) {
                    if let Err(e) = r {
                        eprintln!("tracking-links: cannot listen for Ctrl-C: {e}");
                    }
                    return ExitCode::FAILURE;
                }
                crate::real::run(cfg, async move {
                    let _ = ctrl_c.await;
                })
                .await
            }
            RealCommand::Backfill {
                since,
                send,
                config,
                dry_run: _,
            } => {
                let cfg = match load(&config) {
                    Ok(c) => c,
                    Err(code) => return code,
                };
                crate::backfill::run(&cfg, since, send).await.map(|_| ())
            }
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tracking-links: {e}");
                ExitCode::FAILURE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{ledger_totals, parse_since};
    use aftercare::store::{Decision, LedgerEntry};

    #[test]
    fn styling_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(super::color_allowed(true, None));
        assert!(super::color_allowed(true, Some(OsStr::new(""))));
        assert!(!super::color_allowed(true, Some(OsStr::new("1"))));
        assert!(!super::color_allowed(false, None));
    }

    #[test]
    fn totals_count_every_outcome_of_an_uncertain_send() {
        let at = chrono::Utc::now();
        let rows: Vec<LedgerEntry> = [
            Decision::Enqueued,
            Decision::Enqueued,
            Decision::Enqueued,
            Decision::Uncertain,
            Decision::Uncertain,
            Decision::Uncertain,
            Decision::Reconciled,
            Decision::Resending,
            Decision::Sent,
            Decision::Abandoned,
        ]
        .into_iter()
        .map(|d| LedgerEntry::new(at, d, "r"))
        .collect();
        assert_eq!(
            ledger_totals(&rows),
            "3 enqueued, 1 sent, 3 uncertain, 1 reconciled, 1 resending, 1 abandoned"
        );
        assert_eq!(ledger_totals(&[]), "");
    }

    #[test]
    fn since() {
        assert_eq!(
            parse_since("2026-03-01").unwrap().to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-03-01T10:00:00+02:00")
                .unwrap()
                .to_rfc3339(),
            "2026-03-01T08:00:00+00:00"
        );
        assert!(parse_since("March").is_err());
    }
}
