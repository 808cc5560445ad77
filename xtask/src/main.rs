//! `cargo xtask`: chores for the Aftercare workspace.
//!
//! - `cargo xtask test [cargo test args]`: README's test command. Installs the Debian
//!   packages the suite needs when run as root on Debian (otherwise stops at once with the
//!   exact command to run), then runs `cargo test --workspace --all-features`.
//! - `cargo xtask ci`: what CI runs — `cargo fmt --check`, `cargo clippy` and `cargo doc`
//!   with warnings as errors, and the whole test suite (`cargo test --workspace --all-features`).
//! - `cargo xtask schemas [--check]`: writes the JSON Schemas of the public event and
//!   configuration types to `schemas/` (or checks that they are up to date).
//! - `cargo xtask bench [filter]`: runs the criterion benchmarks.
//! - `cargo xtask loadtest [--seconds N] [--concurrency C] [--rounds R] [--postgres] [--phases ingest,processing,dispatch]`: the
//!   load harness (`examples/src/bin/loadtest/main.rs`): durable ingest through the `receiver`
//!   against a non-durable axum baseline on loopback, processing lag, and the checks that
//!   every acknowledged webhook is stored and processed once; prints a Markdown table.
//! - `cargo xtask fuzz [--seconds N] [--seed S] [--target NAME]`: the bounded mutation fuzzer
//!   (`tests/src/fuzz.rs`) over every decoder and verifier that parses outside bytes; exits
//!   non-zero on a panic and saves its input under `target/fuzz/findings/`.
//! - `cargo xtask publish-ready`: every publishable crate has its README, licence files and
//!   docs.rs metadata (also a unit test of this crate, so the test suite checks it).
//! - `cargo xtask layers`: the sdk's layers import downwards only (flows never name the
//!   HTTP surface); also a unit test of this crate.
//! - `cargo xtask test-layout`: checks that every file under a crate's `tests/` is declared in
//!   that crate's `tests/main.rs` (each crate builds its integration tests as one binary, so
//!   an undeclared file would silently never run). Also a unit test of this crate.

mod deps;
mod layers;
mod publish;
mod shops_load;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_with(&[], args)
}

/// `cargo` with environment variables set for it.
fn cargo_with(env: &[(&str, &str)], args: &[&str]) -> Result<(), String> {
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .envs(env.iter().copied())
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

/// Each crate with a `tests/main.rs` builds its integration tests as that one binary
/// (`autotests = false`): every other `*.rs` file and every module folder in `tests/` must be
/// declared there with `mod name;`, or it would never be compiled nor run.
fn test_layout() -> Result<(), String> {
    let root = root();
    let mut crates = vec![root.join("sdk"), root.join("examples"), root.join("tests")];
    let adapters = root.join("adapters");
    let entries = std::fs::read_dir(&adapters)
        .map_err(|e| format!("cannot list {}: {e}", adapters.display()))?;
    for entry in entries.flatten() {
        crates.push(entry.path());
    }
    let mut problems = Vec::new();
    let mut checked = 0;
    for krate in crates {
        let tests = krate.join("tests");
        let main = tests.join("main.rs");
        let Ok(main_text) = std::fs::read_to_string(&main) else {
            continue;
        };
        let manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap_or_default();
        if !manifest.contains("autotests = false") || !manifest.contains("path = \"tests/main.rs\"")
        {
            problems.push(format!(
                "{}: has tests/main.rs but its Cargo.toml lacks `autotests = false` and a [[test]] with path = \"tests/main.rs\"",
                krate.display()
            ));
        }
        let entries = std::fs::read_dir(&tests)
            .map_err(|e| format!("cannot list {}: {e}", tests.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let module = if path.is_dir() {
                if !path.join("mod.rs").exists() {
                    continue; // fixtures and other data
                }
                path.file_name()
            } else if path.extension().is_some_and(|e| e == "rs") {
                path.file_stem()
            } else {
                continue;
            };
            let Some(module) = module.and_then(|m| m.to_str()) else {
                continue;
            };
            if module == "main" {
                continue;
            }
            checked += 1;
            let declared = main_text
                .lines()
                .any(|l| l.trim() == format!("mod {module};"));
            if !declared {
                problems.push(format!(
                    "{} is not declared in {} (add `mod {module};`)",
                    path.display(),
                    main.display()
                ));
            }
        }
    }
    if checked == 0 {
        problems.push(
            "no integration test modules found: is the layout check looking in the right place?"
                .into(),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
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
            cargo_with(
                &[("RUSTDOCFLAGS", "-D warnings")],
                &["doc", "--workspace", "--no-deps", "--all-features"],
            )?;
            schemas(true)?;
            test_layout()?;
            publish::check(&root())?;
            layers::check(&root())?;
            deps::ensure()?;
            cargo(&["test", "--workspace", "--all-features"])?;
            cargo(&["run", "-p", "aftercare-tests", "--bin", "fuzz", "--", "--seconds", "60"])
        }
        Some("test") => {
            deps::ensure()?;
            let mut a = vec!["test", "--workspace", "--all-features"];
            a.extend(rest);
            cargo(&a)
        }
        Some("fuzz") => {
            let mut a = vec!["run", "-p", "aftercare-tests", "--bin", "fuzz", "--"];
            a.extend(rest);
            cargo(&a)
        }
        Some("schemas") => schemas(rest.contains(&"--check")),
        Some("test-layout") => test_layout(),
        Some("publish-ready") => publish::check(&root()),
        Some("layers") => layers::check(&root()),
        Some("shops-load") => shops_load::run(&rest),
        Some("loadtest") => {
            // The harness starts the `receiver` binary next to it: both built optimised.
            cargo(&[
                "build",
                "--release",
                "-p",
                "aftercare-examples",
                "--bin",
                "receiver",
                "--bin",
                "loadtest",
            ])?;
            let mut a = vec![
                "run",
                "--release",
                "-q",
                "-p",
                "aftercare-examples",
                "--bin",
                "loadtest",
                "--",
            ];
            a.extend(rest);
            cargo(&a)
        }
        Some("bench") => {
            let mut a = vec!["bench", "--workspace", "--all-features"];
            if !rest.is_empty() {
                a.push("--");
                a.extend(rest);
            }
            cargo(&a)
        }
        _ => Err(
            "usage: cargo xtask <test [cargo test args] | ci | schemas [--check] | test-layout | publish-ready | layers | bench [criterion filter] | loadtest [--seconds N] [--concurrency C] [--rounds R] [--postgres] [--phases ingest,processing,dispatch] | shops-load [--dev] [--shops N] [--orders N] [--big N] [--instances N] [--processes N] [--seconds N] | fuzz [--seconds N] [--seed S] [--target NAME]>"
                .into(),
        ),
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

#[cfg(test)]
mod tests {
    #[test]
    fn every_integration_test_file_is_compiled() {
        if let Err(e) = super::test_layout() {
            panic!("{e}");
        }
    }
}
