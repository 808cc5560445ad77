//! The reference integration's feedback collection.
//!
//! ```text
//! feedback                                       # the demo on embedded defaults
//! feedback --serve                               # ... and keep the pages up until Ctrl-C
//! feedback report --db aftercare-feedback-demo.db --csv report.csv --json report.json
//! ```

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Ask customers how it went after delivery, act on the answers, report NPS and CSAT"
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
    /// Keep serving the survey pages and the dashboard after the story, until Ctrl-C.
    #[arg(long)]
    serve: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the report from an existing database; optionally export it.
    Report {
        /// The SQLite file.
        #[arg(long)]
        db: PathBuf,
        /// Write the report as CSV here.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Write the report as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Report { db, csv, json }) => {
            aftercare_examples::feedback::report_command(&db, csv.as_deref(), json.as_deref()).await
        }
        None => {
            aftercare_examples::feedback::run(aftercare_examples::feedback::DemoOptions {
                db: cli.db,
                bind: cli.bind,
                serve: cli.serve,
            })
            .await
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("feedback: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
