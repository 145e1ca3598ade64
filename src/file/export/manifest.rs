//! `manifest.json`: the SHA-256 of every file of an export folder or an
//! evidence bundle, and [`verify`], which recomputes them and reports files
//! changed, missing or added.
//!
//! The manifest lists paths relative to its folder, `/`-separated, sorted,
//! with sizes; it holds no time, so two exports of the same data write the
//! same manifest. The manifest does not list itself.
//!
//! Beside it, `manifest-sha256.txt` holds the same hashes as BagIt's
//! payload manifest does (RFC 8493 §2.1.3): `<sha256hex>  <path>` per line,
//! the format `sha256sum -c manifest-sha256.txt` checks when run in the
//! folder, so anyone can verify a bundle without knockoff. It is not a
//! full bag (no `bagit.txt`, no `data/` folder: the bundle layout stays as
//! documented), and neither manifest lists the other; [`verify`] checks
//! that the text one says what `manifest.json` says.
//!
//! A folder handed to `verify` may have been tampered with, so its files
//! are read as plain files only ([`crate::model::recording::open_plain_file`]): a
//! symbolic link (to `/dev/zero`, or out of the folder), a FIFO, a device
//! or a file over [`MAX_VERIFIED_FILE_BYTES`] is reported as refused,
//! never followed or read, and a file is hashed as a stream (bounded
//! memory). A file whose size differs from the manifest is reported as
//! changed without being read.

use crate::fetch::sha256_hex;
use crate::model::error::{Error, Result};
use crate::model::recording::{open_plain_file, read_plain_file, FileRefusal};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// File name of a manifest.
pub const MANIFEST_FILE: &str = "manifest.json";

/// File name of the `sha256sum`-format manifest written beside it.
pub const SHA256SUM_FILE: &str = "manifest-sha256.txt";

/// Largest file `verify` hashes, and `export` lists (64 MiB): an export
/// holds pages and photos taken from recordings and crawls, each at most
/// [`crate::model::recording::MAX_RECORDED_FILE_BYTES`]; a bigger file is refused.
pub const MAX_VERIFIED_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Largest `manifest.json` read (16 MiB): about 100,000 entries.
pub const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

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
/// the folder's own manifests excluded.
pub fn list_files(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.retain(|p| p != MANIFEST_FILE && p != SHA256SUM_FILE);
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

/// Hashes every file under `dir` and writes `dir/manifest.json` and
/// `dir/manifest-sha256.txt`.
pub fn write_manifest(dir: &Path) -> Result<Manifest> {
    let mut files = Vec::new();
    for rel in list_files(dir)? {
        let bytes = read_plain_file(dir, &rel, MAX_VERIFIED_FILE_BYTES)
            .map_err(|refusal| Error::Other(format!("{}: {refusal}", dir.join(&rel).display())))?;
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
    let path = dir.join(SHA256SUM_FILE);
    std::fs::write(&path, sha256sum_text(&manifest)).map_err(|e| Error::io(&path, e))?;
    Ok(manifest)
}

/// The manifest in `sha256sum` format: `<hex>  <path>` per line, in the
/// manifest's order. A path holding a backslash, CR or LF (never one the
/// export writes) is escaped as GNU `sha256sum` does: the line starts
/// with a backslash and those characters are written `\\`, `\r`, `\n`.
pub fn sha256sum_text(manifest: &Manifest) -> String {
    let mut out = String::new();
    for entry in &manifest.files {
        let path = &entry.path;
        if path.contains(['\\', '\n', '\r']) {
            let escaped = path
                .replace('\\', "\\\\")
                .replace('\n', "\\n")
                .replace('\r', "\\r");
            out.push_str(&format!("\\{}  {escaped}\n", entry.sha256));
        } else {
            out.push_str(&format!("{}  {path}\n", entry.sha256));
        }
    }
    out
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
    /// Listed files that were not read, with why: a symbolic link, FIFO,
    /// device, or a file over [`MAX_VERIFIED_FILE_BYTES`].
    #[serde(default)]
    pub refused: Vec<String>,
}

impl VerifyReport {
    /// True when every file matches and nothing was added or removed.
    pub fn is_ok(&self) -> bool {
        self.changed.is_empty()
            && self.missing.is_empty()
            && self.added.is_empty()
            && self.refused.is_empty()
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
        for p in &self.refused {
            writeln!(f, "refused  {p}")?;
        }
        let verdict = if self.is_ok() { "OK" } else { "FAILED" };
        write!(
            f,
            "{verdict}: {} ({} files match, {} changed, {} missing, {} added",
            self.dir.display(),
            self.ok,
            self.changed.len(),
            self.missing.len(),
            self.added.len()
        )?;
        if !self.refused.is_empty() {
            write!(f, ", {} refused", self.refused.len())?;
        }
        write!(f, ")")
    }
}

/// Recomputes the hashes of a folder with a `manifest.json` (a whole
/// export or one evidence bundle) and reports what differs.
pub fn verify(dir: &Path) -> Result<VerifyReport> {
    let path = dir.join(MANIFEST_FILE);
    let text = match read_plain_file(dir, MANIFEST_FILE, MAX_MANIFEST_BYTES) {
        Ok(t) => t,
        Err(refusal) => return Err(Error::input(&path, refusal.into_io())),
    };
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
        match open_plain_file(dir, &entry.path, MAX_VERIFIED_FILE_BYTES) {
            Ok((_, len)) if len != entry.bytes => report.changed.push(entry.path.clone()),
            Ok((f, len)) => {
                let sha = hash_stream(f, len).map_err(|e| Error::io(&file, e))?;
                if sha == entry.sha256 {
                    report.ok += 1;
                } else {
                    report.changed.push(entry.path.clone());
                }
            }
            Err(FileRefusal::Missing) => report.missing.push(entry.path.clone()),
            Err(FileRefusal::Io(e)) => return Err(Error::io(&file, e)),
            Err(refusal) => report.refused.push(format!("{}: {refusal}", entry.path)),
        }
    }
    report.added = present
        .into_iter()
        .filter(|p| !listed.contains(p.as_str()))
        .collect();
    // Exports from before it have no text manifest; one that is there
    // must say what manifest.json says.
    match read_plain_file(dir, SHA256SUM_FILE, MAX_MANIFEST_BYTES) {
        Ok(text) if text == sha256sum_text(&manifest).as_bytes() => {}
        Ok(_) => report.changed.push(SHA256SUM_FILE.to_string()),
        Err(FileRefusal::Missing) => {}
        Err(FileRefusal::Io(e)) => return Err(Error::io(dir.join(SHA256SUM_FILE), e)),
        Err(refusal) => report.refused.push(format!("{SHA256SUM_FILE}: {refusal}")),
    }
    Ok(report)
}

/// SHA-256 of the first `len` bytes of `f` (and of any bytes past them,
/// so a file that grew differs), read in blocks.
fn hash_stream(f: std::fs::File, len: u64) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut limited = f.take(len.saturating_add(1));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match limited.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}
