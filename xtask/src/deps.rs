//! `cargo xtask test`'s first step: the programs the test suite starts besides Rust.
//!
//! The suite runs real services where a user would have them: an SMTP server
//! (`python3-aiosmtpd`), PostgreSQL (the server binaries; each test starts a private
//! cluster), and a headless Chromium with fonts for Arabic and Thai. On Debian, as root, the
//! missing packages are installed; anywhere else the command stops at once and prints the
//! exact command to run.

use std::path::Path;
use std::process::Command;

/// The Debian packages the tests need, with what needs each.
pub const PACKAGES: &[(&str, &str)] = &[
    (
        "python3",
        "the SMTP test server, and the accessibility audit's DevTools client (tests/axe_audit.py)",
    ),
    (
        "python3-aiosmtpd",
        "the SMTP test server (adapters/smtp tests)",
    ),
    (
        "postgresql",
        "the PostgreSQL server binaries (each PostgreSQL test starts its own cluster)",
    ),
    ("chromium", "the headless browser of the page tests"),
    (
        "fonts-noto-core",
        "Arabic and Thai glyphs in page screenshots",
    ),
    (
        "fonts-noto-ui-core",
        "Arabic and Thai glyphs in page screenshots",
    ),
];

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| {
            o.status.success()
                && String::from_utf8_lossy(&o.stdout).contains("install ok installed")
        })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The packages of [`PACKAGES`] that `dpkg` does not know as installed.
pub fn missing() -> Vec<&'static str> {
    PACKAGES
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| !installed(p))
        .collect()
}

/// The command that installs `missing`.
pub fn install_command(missing: &[&str]) -> String {
    format!(
        "apt-get update && apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    )
}

/// Makes sure every package is there: installs the missing ones on Debian as root, or
/// explains what to run.
pub fn ensure() -> Result<(), String> {
    let debian = Path::new("/etc/debian_version").exists();
    if !debian {
        return Err(format!(
            "this is not Debian, so `cargo xtask test` cannot install what the tests need; install the equivalents of: {}\n(then run `cargo test --workspace --all-features`)",
            PACKAGES
                .iter()
                .map(|(p, why)| format!("{p} ({why})"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let missing = missing();
    if missing.is_empty() {
        return Ok(());
    }
    let command = install_command(&missing);
    if !is_root() {
        return Err(format!(
            "the tests need Debian packages that are not installed: {}.\nRun as root:\n    {command}\nthen `cargo xtask test` again.",
            missing.join(", ")
        ));
    }
    eprintln!("$ {command}");
    let update = Command::new("apt-get")
        .args(["update", "-qq"])
        .status()
        .map_err(|e| format!("could not run apt-get: {e}"))?;
    if !update.success() {
        return Err(format!(
            "`apt-get update` failed ({update}); run `{command}` by hand"
        ));
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("could not run apt-get: {e}"))?;
    if !status.success() {
        return Err(format!(
            "installing {} failed ({status})",
            missing.join(" ")
        ));
    }
    let still = self::missing();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!("still missing after apt-get: {}", still.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_install_command_names_every_missing_package() {
        let c = super::install_command(&["chromium", "postgresql"]);
        assert!(
            c.ends_with("install -y --no-install-recommends chromium postgresql"),
            "{c}"
        );
    }

    #[test]
    fn a_package_that_does_not_exist_is_missing() {
        assert!(!super::installed("aftercare-no-such-package"));
    }
}
