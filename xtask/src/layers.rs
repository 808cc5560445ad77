//! `cargo xtask layers`: the sdk's layers import downwards only. Flows decide and the HTTP
//! surface calls them, so nothing under `sdk/src/flows/` may name `crate::http` in code (a
//! doc link is fine); the model and the store name neither.

use std::path::Path;

/// (folder or file under `sdk/src`, the paths it must not use in code)
const RULES: &[(&str, &[&str])] = &[
    ("flows", &["crate::http", "crate::stack"]),
    ("model", &["crate::http", "crate::flows", "crate::stack"]),
    ("store.rs", &["crate::http", "crate::flows", "crate::stack"]),
    (
        "dispatch.rs",
        &["crate::http", "crate::flows", "crate::stack"],
    ),
    ("inbox.rs", &["crate::http", "crate::flows", "crate::stack"]),
    // The unit of work sits beside the store: the processor uses it, never the reverse.
    (
        "work.rs",
        &[
            "crate::http",
            "crate::flows",
            "crate::stack",
            "crate::inbox",
        ],
    ),
];

fn rust_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).into_iter().flatten().flatten() {
            rust_files(&e.path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// Lines of `text` that use `forbidden` outside comments.
fn offending(text: &str, forbidden: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split("//").next().unwrap_or("");
            code.contains(forbidden)
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// Checks every rule.
pub fn check(root: &Path) -> Result<(), String> {
    let src = root.join("sdk/src");
    let mut problems = Vec::new();
    for (place, forbidden) in RULES {
        let mut files = Vec::new();
        rust_files(&src.join(place), &mut files);
        if files.is_empty() {
            problems.push(format!(
                "sdk/src/{place}: not found (update xtask/src/layers.rs)"
            ));
        }
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for bad in *forbidden {
                for line in offending(&text, bad) {
                    problems.push(format!(
                        "{}:{line}: uses {bad}, a layer above it (move what both need down)",
                        f.display()
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_use_in_code_is_found_and_a_doc_link_is_not() {
        let text = "/// [`X`](crate::http::X)\nuse crate::http::survey::AnswerHook;\n";
        assert_eq!(super::offending(text, "crate::http"), vec![2]);
    }

    #[test]
    fn the_sdk_imports_downwards_only() {
        if let Err(e) = super::check(&crate::root()) {
            panic!("{e}");
        }
    }
}
