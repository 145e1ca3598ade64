//! Raw bytes kept by content (captured pages and photos, official photos,
//! documents, files added to cases) as one file each, named by its
//! SHA-256, in `DATA/blobs/<first two hex digits>/<sha256>`, beside the
//! sled store that holds their records.
//!
//! Why files and not a sled tree: sled keeps every node it touched in
//! memory until its cache gets around to evicting it, and a node of raw
//! pages holds a dozen of them (hundreds of kilobytes). A daemon cycle
//! that captures a few hundred pages and photos kept ~30 MiB of such
//! nodes resident (heaptrack, BENCHMARKS.md "Stop 31"). A file per blob
//! also maps one to one onto object storage keys (ARCHITECTURE.md).
//!
//! Guarantees:
//! - a blob's name is checked to be a SHA-256 in lowercase hex before it
//!   becomes a path: nothing a page says chooses where bytes go;
//! - bytes are checked against their name when written (a mismatch is
//!   refused) and when read (a damaged file is an error naming it, never
//!   evidence);
//! - a file appears under its name only whole: it is written to a
//!   temporary file in the same folder, then renamed; the files and
//!   folders written since are synced by [`BlobFiles::sync`] (the store's
//!   flush, which is what makes the records durable too: one sync per
//!   file at a flush cost a daemon cycle ~0.1 s less than one at each
//!   write). A file cut short by a crash before that is found by its
//!   SHA-256 when read, and written again by the next put;
//! - stores written before this keep their bytes in the `blobs` tree:
//!   [`crate::store::Store`] reads there when there is no file.

use crate::model::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The folder of blob files in a data folder.
pub const BLOBS_DIR: &str = "blobs";

/// The blob files of a data folder.
#[derive(Clone)]
pub struct BlobFiles {
    root: PathBuf,
    /// Files written since the last sync.
    unsynced: Arc<Unsynced>,
}

/// Files written and not yet synced; synced (as well as can be) when the
/// last handle goes, for a command that never flushes.
#[derive(Default)]
struct Unsynced(Mutex<BTreeSet<PathBuf>>);

impl Unsynced {
    fn take(&self) -> BTreeSet<PathBuf> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Drop for Unsynced {
    fn drop(&mut self) {
        if let Err(e) = sync_files(self.take(), None) {
            tracing::warn!(error = %e, "syncing the blob files written");
        }
    }
}

/// Syncs `files`, then their folders and `root`; files gone since (bytes
/// dropped) are passed over.
fn sync_files(files: BTreeSet<PathBuf>, root: Option<&Path>) -> Result<()> {
    let dirs: BTreeSet<&Path> = files.iter().filter_map(|f| f.parent()).collect();
    let paths = files.iter().map(PathBuf::as_path);
    for p in paths.chain(dirs).chain(root) {
        match std::fs::File::open(p).and_then(|f| f.sync_all()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(p, e)),
        }
    }
    Ok(())
}

/// True for a SHA-256 written as 64 lowercase hex digits.
fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A SHA-256 written as 64 lowercase hex digits (as page records and blob
/// names keep it), as its 32 bytes; `None` for anything else.
pub fn sha256_bytes(hex_sha: &str) -> Option<[u8; 32]> {
    if !is_sha256_hex(hex_sha) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_sha, &mut out).ok()?;
    Some(out)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl BlobFiles {
    pub fn new(data_dir: &Path) -> BlobFiles {
        BlobFiles {
            root: data_dir.join(BLOBS_DIR),
            unsynced: Default::default(),
        }
    }

    /// Where the blob named `sha256` is (or would be); an error for a name
    /// that is not a SHA-256 in lowercase hex.
    pub fn path(&self, sha256: &str) -> Result<PathBuf> {
        if !is_sha256_hex(sha256) {
            return Err(Error::Other(format!(
                "{}: `{}` is not a SHA-256 (64 lowercase hex digits); no blob is kept or read under it",
                self.root.display(),
                sha256.escape_debug()
            )));
        }
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }

    /// Keeps `bytes` under `sha256`, which must be their SHA-256. A file
    /// already there with these bytes is left as it is; one with other
    /// bytes (damaged, or cut short by a crash) is written over.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(sha256)?;
        let actual = sha256_hex(bytes);
        if actual != sha256 {
            return Err(Error::Other(format!(
                "{}: refused: the bytes given for it have SHA-256 {actual}",
                path.display()
            )));
        }
        // Already there whole (the same capture again): nothing to write.
        // Anything else there (cut short or damaged) is written over.
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64)
            && std::fs::read(&path).is_ok_and(|b| b == bytes)
        {
            return Ok(());
        }
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
        tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
        tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        self.unsynced
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path);
        Ok(())
    }

    /// The bytes under `sha256`, checked against it; `None` when there is
    /// no such file. A file whose bytes do not have that SHA-256 is an
    /// error naming it.
    pub fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(sha256)?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let actual = sha256_hex(&bytes);
        if actual != sha256 {
            return Err(Error::Other(format!(
                "{}: damaged: its bytes have SHA-256 {actual}, not the one it is named by",
                path.display()
            )));
        }
        Ok(Some(bytes))
    }

    /// The size of the file under `sha256`, `None` when there is none.
    pub fn size(&self, sha256: &str) -> Result<Option<u64>> {
        let path = self.path(sha256)?;
        match std::fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Deletes the file under `sha256`; its size, `None` when there was
    /// none.
    pub fn remove(&self, sha256: &str) -> Result<Option<u64>> {
        let Some(size) = self.size(sha256)? else {
            return Ok(None);
        };
        let path = self.path(sha256)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(Some(size)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Syncs the files written since the last sync, then their folders,
    /// so files and names survive a crash as the store's records do.
    pub fn sync(&self) -> Result<()> {
        sync_files(self.unsynced.take(), Some(&self.root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_named_by_content_checked_both_ways_and_never_by_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobFiles::new(dir.path());
        let bytes = b"<html>a captured page</html>".to_vec();
        let sha = sha256_hex(&bytes);
        assert_eq!(blobs.get(&sha).unwrap(), None);
        blobs.put(&sha, &bytes).unwrap();
        blobs.put(&sha, &bytes).unwrap();
        blobs.sync().unwrap();
        let path = dir.path().join("blobs").join(&sha[..2]).join(&sha);
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert_eq!(blobs.get(&sha).unwrap(), Some(bytes.clone()));
        assert_eq!(blobs.size(&sha).unwrap(), Some(bytes.len() as u64));
        // Only the file itself: no temporary file left beside it.
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );

        // Bytes that are not what the name says are refused, and a file
        // damaged on disk is an error naming it, not evidence.
        let other = sha256_hex(b"other");
        let e = blobs.put(&other, &bytes).unwrap_err().to_string();
        assert!(e.contains(&other) && e.contains(&sha), "{e}");
        assert_eq!(blobs.get(&other).unwrap(), None);
        std::fs::write(&path, b"<html>a captured page</html>!").unwrap();
        let e = blobs.get(&sha).unwrap_err().to_string();
        assert!(
            e.contains(&path.display().to_string()) && e.contains("damaged"),
            "{e}"
        );
        // A damaged file is written again by the next put, whatever its
        // size.
        blobs.put(&sha, &bytes).unwrap();
        assert_eq!(blobs.get(&sha).unwrap(), Some(bytes.clone()));
        std::fs::write(&path, vec![0u8; bytes.len()]).unwrap();
        assert!(blobs.get(&sha).is_err());
        blobs.put(&sha, &bytes).unwrap();
        assert_eq!(blobs.get(&sha).unwrap(), Some(bytes.clone()));

        // Names that are not a SHA-256 never become paths.
        for bad in [
            "../../etc/passwd",
            "",
            &sha.to_uppercase(),
            &sha[..63],
            "/tmp/x",
        ] {
            assert!(blobs.put(bad, &bytes).is_err(), "{bad}");
            assert!(blobs.get(bad).is_err(), "{bad}");
            assert!(blobs.remove(bad).is_err(), "{bad}");
        }

        assert_eq!(blobs.remove(&sha).unwrap(), Some(bytes.len() as u64));
        assert_eq!(blobs.remove(&sha).unwrap(), None);
        assert_eq!(blobs.get(&sha).unwrap(), None);
    }
}
