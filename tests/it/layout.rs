//! The source layout shows the pipeline: each top-level folder of `src/`
//! imports only the folders below it, modules inside a folder form no
//! cycle, every module says what it is for, and `ARCHITECTURE.md` has an
//! entry for every folder. Read from the `crate::` paths of the source
//! (comments left out), so a new upward import fails here, naming the file
//! and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The folders, ground first: each may import only those before it.
const LAYERS: &[&str] = &[
    "model",
    "marketplaces",
    "fetch",
    "judge",
    "store",
    "file",
    "run",
];

struct Source {
    /// `judge/score.rs`, `judge/imagehash/mod.rs`.
    rel: String,
    text: String,
}

fn sources() -> Vec<Source> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<Source>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(Source {
                    rel,
                    text: std::fs::read_to_string(&p).unwrap(),
                });
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out
}

/// The folder and the module inside it a file belongs to:
/// `judge/imagehash/plane.rs` → (`judge`, `imagehash`); `run/cli.rs` →
/// (`run`, `cli`); `store/mod.rs` → (`store`, `mod`).
fn place(rel: &str) -> Option<(String, String)> {
    let mut parts = rel.split('/');
    let top = parts.next()?;
    let second = parts.next()?;
    Some((top.to_string(), second.trim_end_matches(".rs").to_string()))
}

/// Every `crate::a::b` path outside comments, with its line number.
fn crate_paths(text: &str) -> Vec<(usize, String, Option<String>)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        assert!(
            !code.contains("crate::{"),
            "line {}: a `use crate::{{...}}` group; name each path so this check can read it",
            n + 1
        );
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // e.g. `knockoff_crate::`
            }
            let ident = |s: &str| -> String {
                s.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            };
            let a = ident(rest);
            let after = &rest[a.len()..];
            let b = after
                .strip_prefix("::")
                .map(ident)
                .filter(|b| !b.is_empty());
            out.push((n + 1, a, b));
        }
    }
    out
}

#[test]
fn folders_import_only_the_folders_below_them() {
    let mut upward = Vec::new();
    for s in sources() {
        let Some((top, _)) = place(&s.rel) else {
            assert!(
                s.rel == "lib.rs" || s.rel == "main.rs",
                "src/{}: a module outside the layout's folders",
                s.rel
            );
            continue;
        };
        let Some(mine) = LAYERS.iter().position(|l| *l == top) else {
            panic!("src/{}: folder {top} is not in the layout's LAYERS", s.rel);
        };
        for (line, a, _) in crate_paths(&s.text) {
            if let Some(theirs) = LAYERS.iter().position(|l| *l == a) {
                if theirs > mine {
                    upward.push(format!("src/{}:{line}: {top} imports {a}", s.rel));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports pointing up the layers ({}):\n{}",
        LAYERS.join(" < "),
        upward.join("\n")
    );
}

#[test]
fn modules_inside_a_folder_form_no_cycle() {
    // (folder, module) → modules of the same folder it imports.
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for s in sources() {
        let Some((top, second)) = place(&s.rel) else {
            continue;
        };
        for (_, a, b) in crate_paths(&s.text) {
            if let Some(b) = b {
                if a == top && b != second && b.chars().next().is_some_and(|c| c.is_lowercase()) {
                    edges
                        .entry((top.clone(), second.clone()))
                        .or_default()
                        .insert(b);
                }
            }
        }
    }
    // Depth-first search for a back edge, per folder.
    fn visit(
        node: &(String, String),
        edges: &BTreeMap<(String, String), BTreeSet<String>>,
        state: &mut BTreeMap<(String, String), u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|p| *p == node.1).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node.1.clone());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(node.clone(), 1);
        path.push(node.1.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(&(node.0.clone(), next.clone()), edges, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, &edges, &mut state, &mut Vec::new()) {
            panic!(
                "a cycle of modules in src/{}: {}",
                node.0,
                cycle.join(" → ")
            );
        }
    }
}

#[test]
fn the_checker_reads_crate_paths_outside_comments() {
    // The parsing the two checks rest on, on made-up lines.
    let paths = crate_paths(
        "//! crate::run::cli in a comment\nuse crate::run::cli::Cli;\n    let x = crate::judge::score::score(1);\n",
    );
    assert_eq!(
        paths,
        vec![
            (2, "run".to_string(), Some("cli".to_string())),
            (3, "judge".to_string(), Some("score".to_string())),
        ]
    );
    assert_eq!(
        place("judge/imagehash/plane.rs"),
        Some(("judge".to_string(), "imagehash".to_string()))
    );
    assert_eq!(place("lib.rs"), None);
}

#[test]
fn every_module_says_what_it_is_for_and_every_folder_is_in_architecture_md() {
    let mut silent = Vec::new();
    for s in sources() {
        if !s.text.trim_start().starts_with("//!") {
            silent.push(format!("src/{}", s.rel));
        }
    }
    assert!(
        silent.is_empty(),
        "modules without a `//!` line: {silent:?}"
    );
    let arch =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .unwrap();
    for layer in LAYERS {
        assert!(
            arch.contains(&format!("`src/{layer}/`")),
            "ARCHITECTURE.md has no entry for `src/{layer}/`"
        );
    }
    // And the layers on disk are exactly these.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut on_disk: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut expected: Vec<String> = LAYERS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(on_disk, expected, "src/ folders against LAYERS");
}
