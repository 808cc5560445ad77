//! The reference integration's feedback collection.
//!
//! ```text
//! feedback                                       # the demo on embedded defaults
//! feedback --serve                               # ... and keep the pages up until Ctrl-C
//! feedback report --db aftercare-feedback-demo.db --csv report.csv --json report.json
//! feedback --check-config shop.toml              # every mistake, with its line
//! feedback check-config --config shop.toml       # the same
//! feedback run --config shop.toml                # the real store with [survey], until Ctrl-C
//! feedback report --config shop.toml --csv report.csv   # the report from its store
//! ```
//!
//! The configuration file is `tracking-links`' (`examples/tracking-links.example.toml`);
//! `run` needs its `[survey]` section.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: processing allocates and frees across threads
/// (a batch is staged on the runtime's workers and committed from another task), where
/// glibc's arenas cost issue 20's harness a fifth of the CPU in `malloc`/`free`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Ask customers how it went after delivery, act on the answers, report NPS, CSAT and CES"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The demo's SQLite file (recreated on each run).
    #[arg(long, default_value = "aftercare-feedback-demo.db")]
    db: PathBuf,
    /// Where the demo serves webhooks, the survey page and the dashboard.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: std::net::SocketAddr,
    /// The shop platform the sandbox plays (its webhooks, through its adapter).
    #[arg(long, value_enum, default_value_t)]
    platform: aftercare_examples::platform::DemoPlatform,
    /// Keep serving the survey pages and the dashboard after the story, until Ctrl-C.
    #[arg(long)]
    serve: bool,
    /// Check a configuration file, report every mistake, and exit.
    #[arg(long, value_name = "FILE")]
    check_config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the report from an existing database; optionally export it.
    Report {
        /// The SQLite file (the demo's).
        #[arg(long, required_unless_present = "config", conflicts_with = "config")]
        db: Option<PathBuf>,
        /// A real-store configuration file: the report from the store it names.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Write the report as CSV here.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Write the report as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Check a configuration file and report every mistake, each with its line and column
    /// (the same as `--check-config FILE`).
    CheckConfig {
        /// The TOML file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Serve a real store (Shopify, WooCommerce or BigCommerce) from a configuration file
    /// with a `[survey]` section: tracking messages, surveys, follow-ups, the survey page and
    /// the dashboard, until Ctrl-C.
    Run {
        /// The TOML file.
        #[arg(long)]
        config: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(file) = &cli.check_config {
        return aftercare_examples::cli::check_config(file);
    }
    let result = match cli.command {
        Some(Command::Report {
            db,
            config,
            csv,
            json,
        }) => match (db, config) {
            (_, Some(config)) => {
                let cfg = match aftercare_examples::cli::load(&config) {
                    Ok(c) => c,
                    Err(code) => return code,
                };
                aftercare_examples::feedback::report_from_config(
                    &cfg,
                    csv.as_deref(),
                    json.as_deref(),
                )
                .await
            }
            (Some(db), None) => {
                aftercare_examples::feedback::report_command(&db, csv.as_deref(), json.as_deref())
                    .await
            }
            (None, None) => Err("give --db or --config".into()),
        },
        Some(Command::Run { config }) => return run(&config).await,
        Some(Command::CheckConfig { config }) => {
            return aftercare_examples::cli::check_config(&config);
        }
        None => {
            aftercare_examples::feedback::run(aftercare_examples::feedback::DemoOptions {
                platform: cli.platform,
                db: cli.db,
                bind: cli.bind,
                serve: cli.serve,
            })
            .await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("feedback: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `run --config FILE`: the real-store stack, which must have a `[survey]` section.
async fn run(config: &std::path::Path) -> ExitCode {
    let cfg = match aftercare_examples::cli::load(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if cfg.survey.is_none() {
        eprintln!(
            "{}: no [survey] section: add one to ask customers after delivery (see examples/tracking-links.example.toml)",
            config.display()
        );
        return ExitCode::FAILURE;
    }
    // Listen for Ctrl-C from now on (the handler is installed on first poll).
    let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
    if let Some(r) = futures::FutureExt::now_or_never(&mut ctrl_c) {
        if let Err(e) = r {
            eprintln!("feedback: cannot listen for Ctrl-C: {e}");
        }
        return ExitCode::FAILURE;
    }
    match aftercare_examples::real::run_as("feedback", cfg, async move {
        let _ = ctrl_c.await;
    })
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("feedback: {e}");
            ExitCode::FAILURE
        }
    }
}
