//! `manifest.json`: the SHA-256 of every file of an export folder or an
//! evidence bundle, and [`verify`], which recomputes them and reports files
//! changed, missing or added.
//!
//! The manifest lists paths relative to its folder, `/`-separated, sorted,
//! with sizes; it holds no time, so two exports of the same data write the
//! same manifest. The manifest does not list itself.

use crate::error::{Error, Result};
use crate::fetch::sha256_hex;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// File name of a manifest.
pub const MANIFEST_FILE: &str = "manifest.json";

/// One file of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// A manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub algorithm: String,
    pub files: Vec<ManifestEntry>,
}

/// Every file under `dir` (recursively), relative, `/`-separated, sorted;
/// the folder's own manifest excluded.
pub fn list_files(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.retain(|p| p != MANIFEST_FILE);
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let ft = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        if ft.is_dir() {
            walk(&entry.path(), &rel, out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// Hashes every file under `dir` and writes `dir/manifest.json`.
pub fn write_manifest(dir: &Path) -> Result<Manifest> {
    let mut files = Vec::new();
    for rel in list_files(dir)? {
        let path = dir.join(&rel);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        files.push(ManifestEntry {
            sha256: sha256_hex(&bytes),
            bytes: bytes.len() as u64,
            path: rel,
        });
    }
    let manifest = Manifest {
        algorithm: "sha256".into(),
        files,
    };
    let path = dir.join(MANIFEST_FILE);
    let mut json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    json.push(b'\n');
    std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
    Ok(manifest)
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub dir: PathBuf,
    /// Files whose hash matches.
    pub ok: usize,
    /// Files whose bytes differ from the manifest.
    pub changed: Vec<String>,
    /// Files in the manifest that are gone.
    pub missing: Vec<String>,
    /// Files present but not in the manifest.
    pub added: Vec<String>,
}

impl VerifyReport {
    /// True when every file matches and nothing was added or removed.
    pub fn is_ok(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.added.is_empty()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.changed {
            writeln!(f, "changed  {p}")?;
        }
        for p in &self.missing {
            writeln!(f, "missing  {p}")?;
        }
        for p in &self.added {
            writeln!(f, "added    {p}")?;
        }
        let verdict = if self.is_ok() { "OK" } else { "FAILED" };
        write!(
            f,
            "{verdict}: {} ({} files match, {} changed, {} missing, {} added)",
            self.dir.display(),
            self.ok,
            self.changed.len(),
            self.missing.len(),
            self.added.len()
        )
    }
}

/// Recomputes the hashes of a folder with a `manifest.json` (a whole
/// export or one evidence bundle) and reports what differs.
pub fn verify(dir: &Path) -> Result<VerifyReport> {
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| Error::Other(format!("{}: not a knockoff manifest: {e}", path.display())))?;
    if manifest.algorithm != "sha256" {
        return Err(Error::Other(format!(
            "{}: unknown algorithm {:?} (expected sha256)",
            path.display(),
            manifest.algorithm
        )));
    }
    let mut report = VerifyReport {
        dir: dir.to_path_buf(),
        ..VerifyReport::default()
    };
    let present = list_files(dir)?;
    let listed: std::collections::BTreeSet<&str> =
        manifest.files.iter().map(|e| e.path.as_str()).collect();
    for entry in &manifest.files {
        // A tampered manifest must not make us read outside the folder.
        let Ok(file) = super::names::safe_join(dir, &entry.path) else {
            report.missing.push(entry.path.clone());
            continue;
        };
        match std::fs::read(&file) {
            Ok(bytes) if sha256_hex(&bytes) == entry.sha256 => report.ok += 1,
            Ok(_) => report.changed.push(entry.path.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                report.missing.push(entry.path.clone())
            }
            Err(e) => return Err(Error::io(&file, e)),
        }
    }
    report.added = present
        .into_iter()
        .filter(|p| !listed.contains(p.as_str()))
        .collect();
    Ok(report)
}
