//! The single-writer lock of an output folder: `DIR/.callrec.lock`.
//!
//! A run holds an exclusive advisory lock (`flock`; `LockFileEx` on Windows) on the file for its
//! whole duration and writes its pid, host name and start time into it, so a second run can say
//! who holds it. The kernel drops the lock when the holder exits in any way, `kill -9` included,
//! so a dead run never blocks the next one. A lock file that still has content but no holder was
//! left by a run that died: it is taken over, with a note. A finished run removes the file (it
//! unlinks it while still holding the lock; a run that opened the old file meanwhile notices that
//! the path now names another file, or none, and tries again).

use anyhow::{anyhow, bail, Context, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// File name of the lock inside the output folder.
pub const LOCK_FILE: &str = ".callrec.lock";

/// The lock of one output folder, held until dropped.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
    /// Set when the lock was taken over from a run that died: what the file said about it.
    pub taken_over: Option<String>,
}

impl Lock {
    /// Takes the lock of `dir` (which must exist), or fails with a message naming the holder.
    pub fn acquire(dir: &Path) -> Result<Lock> {
        let path = dir.join(LOCK_FILE);
        for _ in 0..100 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("cannot create the lock file {}", path.display()))?;
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => {}
                Err(fs4::TryLockError::WouldBlock) => {
                    let holder = read_holder(&mut file);
                    bail!(
                        "another callrec run is writing to {} ({}); this run did not start. \
                         Wait for it to finish (lock file {})",
                        dir.display(),
                        holder.unwrap_or_else(|| "holder unknown".to_owned()),
                        path.display()
                    );
                }
                Err(fs4::TryLockError::Error(e)) => {
                    return Err(anyhow!(e))
                        .with_context(|| format!("cannot lock {}", path.display()));
                }
            }
            if !same_file(&file, &path) {
                // The previous holder removed the file between our open and our lock.
                continue;
            }
            let taken_over = read_holder(&mut file);
            let info = format!(
                "pid {} on host {} since {}",
                std::process::id(),
                hostname(),
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            file.set_len(0)?;
            file.rewind()?;
            file.write_all(info.as_bytes())?;
            file.sync_all()
                .with_context(|| format!("cannot write the lock file {}", path.display()))?;
            return Ok(Lock {
                file,
                path,
                taken_over,
            });
        }
        bail!("cannot lock {}: it keeps being replaced", path.display())
    }

    /// The note to print when the lock was left behind by a run that died.
    pub fn note(&self) -> Option<String> {
        self.taken_over.as_ref().map(|h| {
            format!(
                "took over the lock {} left by a run that is no longer running ({h})",
                self.path.display()
            )
        })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Remove the file while still holding the lock; closing `file` then releases it.
        let _ = std::fs::remove_file(&self.path);
        let _ = fs4::FileExt::unlock(&self.file);
    }
}

fn read_holder(file: &mut File) -> Option<String> {
    let mut s = String::new();
    file.rewind().ok()?;
    file.take(4096).read_to_string(&mut s).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// This machine's name, for the lock file and its messages.
pub fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_and_file_removed_on_release() {
        let dir = tempfile::tempdir().unwrap();
        let a = Lock::acquire(dir.path()).unwrap();
        assert!(a.taken_over.is_none());
        let err = Lock::acquire(dir.path()).unwrap_err().to_string();
        assert!(err.contains("another callrec run"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(a);
        assert!(!dir.path().join(LOCK_FILE).exists());
        let b = Lock::acquire(dir.path()).unwrap();
        assert!(b.taken_over.is_none());
    }

    #[test]
    fn lock_left_by_a_dead_run_is_taken_over_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(LOCK_FILE),
            "pid 999999 on host gone since 2026-01-01T00:00:00Z",
        )
        .unwrap();
        let l = Lock::acquire(dir.path()).unwrap();
        let note = l.note().unwrap();
        assert!(note.contains("pid 999999 on host gone"), "{note}");
    }
}
