//! `cargo xtask shops-load [--shops N] [--orders N] [--big N] [--instances N] [--processes N]
//! [--seconds N]`: the bounded 1,000-shop load run on PostgreSQL (`tests/src/bin/shops_load.rs`;
//! `--processes N`: the instances as N separate processes, checked for messages sent twice), built with
//! optimizations so its figures mean something (`--dev` first: an unoptimized build, quicker
//! to compile, slower to run).

use std::process::Command;

/// Runs the load binary with `args`.
pub fn run(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let dev = args.first() == Some(&"--dev");
    let args = if dev { &args[1..] } else { args };
    let mut a = vec!["run"];
    if !dev {
        a.push("--release");
    }
    a.extend(["-p", "aftercare-tests", "--bin", "shops_load", "--"]);
    a.extend(args);
    let status = Command::new(cargo)
        .args(&a)
        .status()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("the shops load run failed or did not finish within its bound".into())
    }
}
