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

/// The ledger rows as lines for a person: times with their zone (UTC), and a run of rows
/// that say the same thing (decision, channel, reason) collapsed into one line with a count,
/// `14 × already queued`, its first and last time, and its message key when they share one.
pub fn ledger_lines(rows: &[LedgerEntry]) -> Vec<String> {
    const TIME: &str = "%Y-%m-%d %H:%M:%S";
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let first = &rows[i];
        let same = |r: &LedgerEntry| {
            r.decision == first.decision && r.channel == first.channel && r.reason == first.reason
        };
        let run = rows[i..].iter().take_while(|r| same(r)).count();
        let group = &rows[i..i + run];
        let last = &group[run - 1];
        let when = if run > 1 && last.at != first.at {
            let end = if last.at.date_naive() == first.at.date_naive() {
                last.at.format("%H:%M:%S").to_string()
            } else {
                last.at.format(TIME).to_string()
            };
            format!("{} to {end} UTC", first.at.format(TIME))
        } else {
            format!("{} UTC", first.at.format(TIME))
        };
        let count = if run > 1 {
            format!("{run} × ")
        } else {
            String::new()
        };
        let keys: std::collections::BTreeSet<&str> =
            group.iter().filter_map(|r| r.key.as_deref()).collect();
        let key = match keys.len() {
            0 => String::new(),
            1 => format!("  [{}]", keys.iter().next().copied().unwrap_or_default()),
            n => format!("  [{n} messages]"),
        };
        out.push(format!(
            "{when}  {:<13} {:<9} {count}{}{key}",
            first.decision.as_str(),
            first.channel.map(|c| c.as_str()).unwrap_or("-"),
            first.reason,
        ));
        i += run;
    }
    out
}

/// Binds a listening socket; when the address is taken, the error names the address and
/// the flag (or setting) that changes it.
pub async fn listen(
    addr: std::net::SocketAddr,
    how_to_change: &str,
) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            std::io::Error::new(
                e.kind(),
                format!(
                    "{addr} is already in use (another server, or an earlier run still going): \
                     stop it, or pick another address with {how_to_change}"
                ),
            )
        } else {
            std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))
        }
    })
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
    use super::{ledger_lines, ledger_totals, parse_since};
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
    fn ledger_lines_collapse_repeats_and_name_the_zone() {
        let at: chrono::DateTime<chrono::Utc> = "2026-03-13T10:00:00Z".parse().unwrap();
        let mut rows = Vec::new();
        let mut e = LedgerEntry::new(at, Decision::Enqueued, "tracking-shipped");
        e.key = Some("k1".into());
        rows.push(e);
        for i in 0..14 {
            let mut e = LedgerEntry::new(
                at + chrono::Duration::seconds(i * 30),
                Decision::Skipped,
                "already queued",
            );
            e.key = Some("k1".into());
            rows.push(e);
        }
        rows.push(LedgerEntry::new(at, Decision::Sent, "sent"));
        let lines = ledger_lines(&rows);
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert!(
            lines[0].starts_with("2026-03-13 10:00:00 UTC  enqueued"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("2026-03-13 10:00:00 to 10:06:30 UTC  skipped"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].contains("14 × already queued  [k1]"),
            "{}",
            lines[1]
        );
        assert!(!lines[2].contains('×'), "{}", lines[2]);
        assert!(ledger_lines(&[]).is_empty());
    }

    #[tokio::test]
    async fn a_taken_address_is_named_with_the_flag_to_change_it() {
        let first = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = first.local_addr().unwrap();
        let e = super::listen(addr, "--bind").await.unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&addr.to_string()) && msg.contains("--bind"),
            "{msg}"
        );
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
