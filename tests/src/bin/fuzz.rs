//! `cargo xtask fuzz [--seconds N] [--seed S] [--target NAME]`: the bounded fuzzer of
//! [`aftercare_tests::fuzz`] over every decoder and verifier that takes outside bytes.
//! Prints iterations and findings per target; exits with 1 when anything panicked.

use std::process::ExitCode;
use std::time::Duration;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = arg(&args, "--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = arg(&args, "--seed")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(1)
        });
    let only = arg(&args, "--target");
    let targets: Vec<_> = aftercare_tests::fuzz::targets()
        .into_iter()
        .filter(|t| only.as_deref().is_none_or(|o| o == t.name))
        .collect();
    if targets.is_empty() {
        eprintln!(
            "no such target; targets: shopify, twilio-form, twilio-json, whatsapp-cloud, woocommerce, bigcommerce, native"
        );
        return ExitCode::from(2);
    }
    let per = Duration::from_secs(seconds) / u32::try_from(targets.len()).unwrap_or(1);
    let out = aftercare_tests::fuzz::findings_dir();
    println!(
        "fuzzing {} targets for {seconds}s in all, seed {seed}",
        targets.len()
    );
    let mut total = 0;
    let mut findings = 0;
    for t in &targets {
        let o = aftercare_tests::fuzz::run(t, per, seed, &out);
        println!(
            "{:<15} {:>10} inputs  {:>9} verified  {:>9} decoded  {} findings",
            t.name,
            o.iterations,
            o.verified,
            o.decoded,
            o.findings.len()
        );
        for (msg, path) in &o.findings {
            println!("  panic: {msg}\n  input: {}", path.display());
        }
        total += o.iterations;
        findings += o.findings.len();
    }
    println!("{total} inputs, {findings} findings");
    if findings == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
