//! One daemon per data folder: an OS file lock on `DATA/daemon.lock`.
//!
//! The lock is the kernel's: the daemon opens `daemon.lock` and holds an
//! exclusive [`File::try_lock`] on it (`flock(2)` on Unix, `LockFileEx` on
//! Windows) for as long as it runs. The kernel releases it when the holder
//! exits for any reason (`kill -9`, a crash, a power cut), so there is no
//! stale lock to detect and no process id to guess about.
//!
//! The file's content, JSON `{pid, host, started_at, listen}`, is
//! information only: it names the holder in error messages, and `listen`
//! lets `knockoff cases` reach a running daemon. It is never the lock.
//! Whatever it says (a pid that is alive but is not a knockoff daemon, a
//! truncated half-write, garbage), it is only read; a start that loses
//! the race for the lock never writes or removes the file.
//!
//! On a clean stop the holder removes the file while it still holds the
//! lock. A start that opened the old file just before that and gets the
//! lock just after checks that the path still names the file it locked
//! (same device and inode), and starts over if not, so two daemons can
//! never each lock a different file.

use crate::model::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The lock file's name inside the data folder.
pub const LOCK_FILE: &str = "daemon.lock";

/// Most bytes read from a lock file: its content is a few hundred bytes of
/// JSON; anything longer is not ours and is not read further.
pub const MAX_LOCK_FILE_BYTES: u64 = 64 * 1024;

/// How long a start keeps trying a held lock before it gives up. A
/// `knockoff cases` run holds a shared lock for a few microseconds while it
/// asks whether a daemon runs; a start must not fail because of that.
pub const LOCK_RETRY_MILLIS: u64 = 500;

/// Pause between two tries of a held lock.
const LOCK_RETRY_STEP_MILLIS: u64 = 25;

/// Who holds a data folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    pub pid: u32,
    pub host: String,
    pub started_at: DateTime<Utc>,
    /// The metrics/API address, once bound.
    #[serde(default)]
    pub listen: Option<String>,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on host {}, started {}",
            self.pid,
            self.host,
            self.started_at.to_rfc3339()
        )?;
        if let Some(l) = &self.listen {
            write!(f, ", listening on {l}")?;
        }
        Ok(())
    }
}

/// A held lock. Dropping it removes the file and releases the lock.
#[derive(Debug)]
pub struct DataLock {
    /// The open lock file; the OS lock lives as long as this handle.
    file: File,
    path: PathBuf,
    info: LockInfo,
    /// What the lock file said when this daemon got the lock, if it named
    /// anyone: a daemon that ended without cleaning up (`kill -9`, a
    /// crash). Information only.
    pub took_over: Option<LockInfo>,
}

impl DataLock {
    /// Takes the lock on `data_dir`, or fails naming the holder.
    pub fn acquire(data_dir: &Path, started_at: DateTime<Utc>) -> Result<DataLock> {
        std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
        let path = data_dir.join(LOCK_FILE);
        let info = LockInfo {
            pid: std::process::id(),
            host: hostname(),
            started_at,
            listen: None,
        };
        let deadline = std::time::Instant::now() + Duration::from_millis(LOCK_RETRY_MILLIS);
        loop {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    if std::time::Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(LOCK_RETRY_STEP_MILLIS));
                        continue;
                    }
                    // Only read: the winner's file is the winner's.
                    let holder = match read_info(&mut file) {
                        Ok(Some(h)) => h.to_string(),
                        _ => "its details are not written yet or unreadable".to_string(),
                    };
                    return Err(Error::Other(format!(
                        "{}: another daemon already watches this data folder ({holder}); stop it first, or use another --data folder",
                        path.display()
                    )));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::Other(format!(
                        "{}: cannot lock the data folder (the file system must support file locks): {e}",
                        path.display()
                    )));
                }
            }
            // A holder removes the file on a clean stop, while it still
            // holds the lock: a file we opened just before that is no
            // longer the lock file. Start over with the one now there.
            if !still_at_path(&file, &path) {
                continue;
            }
            let took_over = read_info(&mut file).ok().flatten();
            if let Some(old) = &took_over {
                tracing::warn!(lock = %path.display(), holder = %old, "taking over a stale lock: the daemon it names is gone");
            }
            let mut lock = DataLock {
                file,
                path,
                info,
                took_over,
            };
            lock.write_info()?;
            return Ok(lock);
        }
    }

    /// Records the bound address in the lock file.
    pub fn set_listen(&mut self, addr: &str) -> Result<()> {
        self.info.listen = Some(addr.to_string());
        self.write_info()
    }

    pub fn info(&self) -> &LockInfo {
        &self.info
    }

    /// Rewrites the lock file's content in place, through the locked handle
    /// (a rename would replace the locked file with an unlocked one).
    fn write_info(&mut self) -> Result<()> {
        let mut json =
            serde_json::to_vec_pretty(&self.info).map_err(|e| Error::Other(e.to_string()))?;
        json.push(b'\n');
        let path = &self.path;
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(&json))
            .and_then(|_| self.file.set_len(json.len() as u64))
            .and_then(|_| self.file.sync_data())
            .map_err(|e| Error::io(path, e))
    }
}

impl Drop for DataLock {
    fn drop(&mut self) {
        // Removed while still locked: nobody else can hold it now. The
        // lock itself goes with the handle, right after.
        if still_at_path(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// True when `path` names the very file `file` has open.
#[cfg(unix)]
fn still_at_path(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at_path(_file: &File, path: &Path) -> bool {
    // Windows does not let a file be removed while it is open without
    // FILE_SHARE_DELETE, which std does not ask for: the path cannot have
    // changed under a held lock.
    path.exists()
}

/// The holder an open lock file names, reading at most
/// [`MAX_LOCK_FILE_BYTES`] (`None` when it names nobody readable).
fn read_info(file: &mut File) -> std::io::Result<Option<LockInfo>> {
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.take(MAX_LOCK_FILE_BYTES).read_to_end(&mut bytes)?;
    Ok(serde_json::from_slice(&bytes).ok())
}

/// What a lock file says (`None` when it is missing or unreadable). This is
/// information only: it says nothing about whether the lock is held (see
/// [`live_holder`]).
pub fn read_lock(path: &Path) -> Result<Option<LockInfo>> {
    match File::open(path) {
        Ok(mut f) => read_info(&mut f).map_err(|e| Error::io(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The daemon holding a data folder's lock, if one does.
///
/// Asks the OS: a shared lock is tried for an instant. If it is granted,
/// no daemon runs, whatever the file says. If a daemon holds the lock, its
/// file names it; a holder that has not written it yet (it has just
/// started) is waited for briefly, then reported as an error.
pub fn live_holder(data_dir: &Path) -> Result<Option<LockInfo>> {
    let path = data_dir.join(LOCK_FILE);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(&path, e)),
    };
    match file.try_lock_shared() {
        Ok(()) => return Ok(None),
        Err(TryLockError::WouldBlock) => {}
        Err(TryLockError::Error(e)) => {
            return Err(Error::Other(format!(
                "{}: cannot check the daemon lock: {e}",
                path.display()
            )))
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_millis(LOCK_RETRY_MILLIS);
    loop {
        if let Some(h) = read_info(&mut file).map_err(|e| Error::io(&path, e))? {
            return Ok(Some(h));
        }
        if std::time::Instant::now() >= deadline {
            return Err(Error::Other(format!(
                "{}: a daemon holds this data folder but its lock file does not name it yet; try again in a moment",
                path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(LOCK_RETRY_STEP_MILLIS));
    }
}

/// This machine's host name.
pub fn hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname writes at
        // most that many bytes.
        let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if r == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let name = String::from_utf8_lossy(&buf[..end]).into_owned();
            if !name.is_empty() {
                return name;
            }
        }
    }
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_info_file(dir: &Path, pid: u32) -> LockInfo {
        let info = LockInfo {
            pid,
            host: hostname(),
            started_at: Utc::now(),
            listen: Some("127.0.0.1:1".into()),
        };
        std::fs::write(dir.join(LOCK_FILE), serde_json::to_vec(&info).unwrap()).unwrap();
        info
    }

    #[test]
    fn a_second_lock_names_the_holder_and_leaves_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = DataLock::acquire(dir.path(), Utc::now()).unwrap();
        lock.set_listen("127.0.0.1:9").unwrap();
        let before = std::fs::read(dir.path().join(LOCK_FILE)).unwrap();
        let e = DataLock::acquire(dir.path(), Utc::now())
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        assert!(e.contains("another daemon"), "{e}");
        assert_eq!(std::fs::read(dir.path().join(LOCK_FILE)).unwrap(), before);
        let h = live_holder(dir.path()).unwrap().unwrap();
        assert_eq!(h.listen.as_deref(), Some("127.0.0.1:9"));
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        assert_eq!(live_holder(dir.path()).unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_content_is_not_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        // A live process that is not a knockoff daemon (this test's own
        // parent, pid 1), or a process that is gone: neither holds the lock.
        for pid in [1, std::os::unix::process::parent_id(), 0x3fff_fff0] {
            let old = write_info_file(dir.path(), pid);
            assert_eq!(live_holder(dir.path()).unwrap(), None);
            let lock = DataLock::acquire(dir.path(), Utc::now()).unwrap();
            assert_eq!(lock.took_over.as_ref(), Some(&old));
            drop(lock);
        }
        // A truncated file: unreadable, not the lock either.
        std::fs::write(dir.path().join(LOCK_FILE), b"{\"pid\": 12").unwrap();
        let lock = DataLock::acquire(dir.path(), Utc::now()).unwrap();
        assert_eq!(lock.took_over, None);
        assert_eq!(
            read_lock(&dir.path().join(LOCK_FILE))
                .unwrap()
                .map(|h| h.pid),
            Some(std::process::id())
        );
    }

    #[test]
    fn a_held_lock_with_an_unwritten_file_is_not_taken_and_not_touched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let holder = File::create(&path).unwrap();
        holder.try_lock().unwrap();
        std::fs::write(&path, b"{\"pid\": 12").unwrap();
        let e = DataLock::acquire(dir.path(), Utc::now())
            .unwrap_err()
            .to_string();
        assert!(e.contains("another daemon"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"pid\": 12");
        assert!(live_holder(dir.path()).is_err());
        drop(holder);
        assert_eq!(live_holder(dir.path()).unwrap(), None);
    }
}
