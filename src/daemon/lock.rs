//! One daemon per data folder: a lock file naming its holder.
//!
//! `DATA/daemon.lock` holds JSON `{pid, host, started_at, listen}`. It is
//! created with `O_EXCL`, so two starts cannot both win. A lock whose
//! holder is a dead process on this host (after `kill -9` or a power cut)
//! is stale and taken over; a live holder, or one on another host (a
//! shared folder), makes the start fail with a message naming it. The
//! `listen` address lets `knockoff cases` reach a running daemon.

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name inside the data folder.
pub const LOCK_FILE: &str = "daemon.lock";

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

/// A held lock; dropping it removes the file.
#[derive(Debug)]
pub struct DataLock {
    path: PathBuf,
    info: LockInfo,
    /// The stale holder this lock replaced, if any.
    pub took_over: Option<LockInfo>,
}

impl DataLock {
    /// Takes the lock on `data_dir`, taking over a stale one.
    pub fn acquire(data_dir: &Path, started_at: DateTime<Utc>) -> Result<DataLock> {
        std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
        let path = data_dir.join(LOCK_FILE);
        let info = LockInfo {
            pid: std::process::id(),
            host: hostname(),
            started_at,
            listen: None,
        };
        let mut took_over = None;
        // Two rounds at most: once as is, once after removing a stale lock.
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let json = serde_json::to_vec_pretty(&info)
                        .map_err(|e| Error::Other(e.to_string()))?;
                    f.write_all(&json)
                        .and_then(|_| f.sync_all())
                        .map_err(|e| Error::io(&path, e))?;
                    return Ok(DataLock {
                        path,
                        info,
                        took_over,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = read_lock(&path)?;
                    match holder {
                        Some(h) if is_alive(&h) => {
                            return Err(Error::Other(format!(
                                "{}: another daemon already watches this data folder ({h}); stop it first, or use another --data folder",
                                path.display()
                            )));
                        }
                        // Dead holder, or an unreadable (half-written) file:
                        // stale.
                        stale => {
                            tracing::warn!(lock = %path.display(), holder = ?stale, "taking over a stale lock");
                            took_over = stale;
                            match std::fs::remove_file(&path) {
                                Ok(()) => {}
                                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                                Err(e) => return Err(Error::io(&path, e)),
                            }
                        }
                    }
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::Other(format!(
            "{}: another daemon took the lock while a stale one was being removed",
            path.display()
        )))
    }

    /// Records the bound address in the lock file.
    pub fn set_listen(&mut self, addr: &str) -> Result<()> {
        self.info.listen = Some(addr.to_string());
        let tmp = self.path.with_extension("lock.tmp");
        let json =
            serde_json::to_vec_pretty(&self.info).map_err(|e| Error::Other(e.to_string()))?;
        std::fs::write(&tmp, json).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))
    }

    pub fn info(&self) -> &LockInfo {
        &self.info
    }
}

impl Drop for DataLock {
    fn drop(&mut self) {
        // Only our own lock is removed.
        if let Ok(Some(h)) = read_lock(&self.path) {
            if h.pid == self.info.pid && h.host == self.info.host {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// The holder named in a lock file (`None` when it is unreadable).
pub fn read_lock(path: &Path) -> Result<Option<LockInfo>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The live holder of a data folder's lock, if any.
pub fn live_holder(data_dir: &Path) -> Result<Option<LockInfo>> {
    Ok(read_lock(&data_dir.join(LOCK_FILE))?.filter(is_alive))
}

/// True unless the holder is provably dead: a process on this host that no
/// longer exists. A holder on another host is assumed alive.
pub fn is_alive(h: &LockInfo) -> bool {
    if h.host != hostname() {
        return true;
    }
    if h.pid == std::process::id() {
        return true;
    }
    pid_alive(h.pid)
}

#[cfg(unix)]
fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 sends nothing; it only checks whether the
    // process exists and may be signalled.
    let r = unsafe { libc::kill(pid, 0) };
    if r == 0 {
        return true;
    }
    // EPERM: it exists but belongs to someone else.
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn pid_alive(_pid: u32) -> bool {
    // No cheap check: never take over a lock we cannot judge.
    true
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

    #[test]
    fn a_second_lock_names_the_holder_and_a_dead_one_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let lock = DataLock::acquire(dir.path(), Utc::now()).unwrap();
        let e = DataLock::acquire(dir.path(), Utc::now())
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        assert!(e.contains("another daemon"), "{e}");
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());

        // A lock left by a process that no longer exists.
        let dead = LockInfo {
            pid: 0x3fff_fff0,
            host: hostname(),
            started_at: Utc::now(),
            listen: None,
        };
        std::fs::write(
            dir.path().join(LOCK_FILE),
            serde_json::to_vec(&dead).unwrap(),
        )
        .unwrap();
        let lock = DataLock::acquire(dir.path(), Utc::now()).unwrap();
        assert_eq!(lock.took_over.as_ref().map(|h| h.pid), Some(dead.pid));
    }
}
