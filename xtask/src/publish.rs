//! `cargo xtask publish-ready`: every publishable crate carries what crates.io and docs.rs
//! need — a README, both licence files, a documentation link, and docs.rs metadata that
//! builds with every feature (so feature-gated items such as the router and pages are shown,
//! with their feature badges, instead of hidden).

use std::path::Path;

/// Problems of one crate directory (empty when ready or not published).
fn problems_of(dir: &Path) -> Vec<String> {
    let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
        return Vec::new();
    };
    if manifest.contains("publish = false") {
        return Vec::new();
    }
    let name = dir.display();
    let mut p = Vec::new();
    for file in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
        if !dir.join(file).exists() {
            p.push(format!(
                "{name}: no {file} (licence files are symlinks to the workspace's)"
            ));
        }
    }
    for (needle, what) in [
        ("readme = \"README.md\"", "readme = \"README.md\""),
        (
            "documentation = \"https://docs.rs/",
            "a documentation link to docs.rs",
        ),
        (
            "[package.metadata.docs.rs]",
            "a [package.metadata.docs.rs] table",
        ),
        ("all-features = true", "all-features = true for docs.rs"),
        (
            "\"--cfg\", \"docsrs\"",
            "rustdoc-args = [\"--cfg\", \"docsrs\"]",
        ),
    ] {
        if !manifest.contains(needle) {
            p.push(format!("{name}/Cargo.toml: missing {what}"));
        }
    }
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap_or_default();
    if !lib.contains("#![cfg_attr(docsrs, feature(doc_cfg))]") {
        p.push(format!(
            "{name}/src/lib.rs: missing #![cfg_attr(docsrs, feature(doc_cfg))] (feature badges on docs.rs)"
        ));
    }
    p
}

/// Checks the sdk and every adapter.
pub fn check(root: &Path) -> Result<(), String> {
    let mut dirs = vec![root.join("sdk")];
    let adapters = root.join("adapters");
    let entries = std::fs::read_dir(&adapters)
        .map_err(|e| format!("cannot list {}: {e}", adapters.display()))?;
    dirs.extend(entries.flatten().map(|e| e.path()));
    let problems: Vec<String> = dirs.iter().flat_map(|d| problems_of(d)).collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_crate_without_docs_rs_metadata_is_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-publish-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap_or_default();
        std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap_or_default();
        std::fs::write(dir.join("src/lib.rs"), "//! x\n").unwrap_or_default();
        let p = super::problems_of(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(p.iter().any(|p| p.contains("docs.rs")), "{p:?}");
        assert!(p.iter().any(|p| p.contains("README.md")), "{p:?}");
        assert!(p.iter().any(|p| p.contains("doc_cfg")), "{p:?}");
    }

    #[test]
    fn every_publishable_crate_is_ready() {
        if let Err(e) = super::check(&crate::root()) {
            panic!("{e}");
        }
    }
}
