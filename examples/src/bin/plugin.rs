//! The store-plugin deployment: one Shopify app installed by many shops, served together
//! (`aftercare_examples::plugin`; README, "Many shops in one deployment").
//!
//! ```text
//! cargo run -p aftercare-examples --bin plugin -- --config plugin.toml
//! cargo run -p aftercare-examples --bin plugin -- --check-config plugin.toml
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use aftercare_examples::plugin::{PluginConfig, check, run};
use clap::Parser;

/// mimalloc rather than the system allocator: processing allocates and frees across threads
/// (a batch is staged on the runtime's workers and committed from another task), where
/// glibc's arenas cost issue 20's harness a fifth of the CPU in `malloc`/`free`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Serves every shop that installs the app: install, webhooks, pages, dashboards, admin.
#[derive(Parser, Debug)]
#[command(
    version,
    about = "Serve every shop that installs the Shopify app: install, webhooks, messages, pages, admin view"
)]
struct Args {
    /// The configuration file (`plugin.example.toml`).
    #[arg(long, value_name = "FILE", conflicts_with = "check_config")]
    config: Option<PathBuf>,
    /// Reads FILE, resolves every secret and reports every problem; exit code 0 when good.
    #[arg(long, value_name = "FILE")]
    check_config: Option<PathBuf>,
}

fn load(file: &PathBuf) -> Result<PluginConfig, ExitCode> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        eprintln!("{}: cannot be read: {e}", file.display());
        ExitCode::FAILURE
    })?;
    let cfg = PluginConfig::parse(&text).map_err(|e| {
        eprintln!("{}: {e}", file.display());
        ExitCode::FAILURE
    })?;
    let problems = check(&cfg);
    if problems.is_empty() {
        return Ok(cfg);
    }
    for p in &problems {
        eprintln!("{}: {p}", file.display());
    }
    Err(ExitCode::FAILURE)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    if let Some(file) = &args.check_config {
        return match load(file) {
            Ok(_) => {
                println!("{}: ok", file.display());
                ExitCode::SUCCESS
            }
            Err(code) => code,
        };
    }
    let Some(file) = &args.config else {
        eprintln!("give --config FILE (or --check-config FILE)");
        return ExitCode::FAILURE;
    };
    let cfg = match load(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match run(cfg, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plugin: {e}");
            ExitCode::FAILURE
        }
    }
}
