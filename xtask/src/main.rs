//! `cargo xtask`: chores for the Aftercare workspace.
//!
//! - `cargo xtask ci`: what CI runs — `cargo fmt --check`, `cargo clippy` with warnings as
//!   errors, and the whole test suite (`cargo test --workspace --all-features`).
//! - `cargo xtask schemas [--check]`: writes the JSON Schemas of the public event and
//!   configuration types to `schemas/` (or checks that they are up to date).
//! - `cargo xtask bench [filter]`: runs the criterion benchmarks.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo(args: &[&str]) -> Result<(), String> {
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

fn schemas(check: bool) -> Result<(), String> {
    let dir = root().join("schemas");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut stale = Vec::new();
    for (name, schema) in aftercare::schema::all() {
        let path = dir.join(name);
        let text = aftercare::schema::render(&schema);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != text {
            if check {
                stale.push(name);
            } else {
                std::fs::write(&path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "stale schemas: {}; run `cargo xtask schemas`",
            stale.join(", ")
        ))
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match args.first().map(String::as_str) {
        Some("ci") => {
            cargo(&["fmt", "--all", "--", "--check"])?;
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ])?;
            schemas(true)?;
            cargo(&["test", "--workspace", "--all-features"])
        }
        Some("schemas") => schemas(rest.contains(&"--check")),
        Some("bench") => {
            let mut a = vec!["bench", "--workspace", "--all-features"];
            if !rest.is_empty() {
                a.push("--");
                a.extend(rest);
            }
            cargo(&a)
        }
        _ => Err("usage: cargo xtask <ci | schemas [--check] | bench [criterion filter]>".into()),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
