//! The rebuild journal: one JSON line per object that became ready, so `--resume` continues after a
//! failure or a kill without redoing finished work. Lines are appended and flushed as objects finish; a
//! torn last line (killed mid-write) is ignored.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::object::ObjectId;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open the rebuild journal {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the rebuild journal {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Serialize, Deserialize)]
struct Entry {
    id: ObjectId,
    digest: String,
}

/// Objects already done, and the file new ones are appended to.
pub struct Journal {
    path: PathBuf,
    done: HashSet<(ObjectId, String)>,
    file: Mutex<File>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("done", &self.done.len())
            .finish()
    }
}

impl Journal {
    /// Opens (creating) the journal. With `resume`, earlier entries count as done; without, it starts empty.
    ///
    /// # Errors
    /// The file or its folder cannot be created or read.
    pub fn open(path: &Path, resume: bool) -> Result<Journal, JournalError> {
        let open_err = |source| JournalError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(open_err)?;
        }
        let mut done = HashSet::new();
        if resume && path.exists() {
            let f = File::open(path).map_err(open_err)?;
            for line in BufReader::new(f).lines() {
                let line = line.map_err(open_err)?;
                if let Ok(e) = serde_json::from_str::<Entry>(&line) {
                    done.insert((e.id, e.digest));
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(resume)
            .truncate(!resume)
            .open(path)
            .map_err(open_err)?;
        Ok(Journal {
            path: path.to_path_buf(),
            done,
            file: Mutex::new(file),
        })
    }

    /// True when an earlier run finished this object with this digest.
    pub fn is_done(&self, id: &ObjectId, digest: &str) -> bool {
        self.done.contains(&(id.clone(), digest.to_string()))
    }

    /// How many objects earlier runs finished.
    pub fn done_count(&self) -> usize {
        self.done.len()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a finished object.
    ///
    /// # Errors
    /// The line cannot be written.
    pub fn record(&self, id: &ObjectId, digest: &str) -> Result<(), JournalError> {
        let entry = Entry {
            id: id.clone(),
            digest: digest.to_string(),
        };
        let mut line = serde_json::to_string(&entry).unwrap_or_default();
        line.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(line.as_bytes())
            .and_then(|()| f.flush())
            .map_err(|source| JournalError::Write {
                path: self.path.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_reads_what_was_recorded_and_ignores_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j/journal.jsonl");
        let a = ObjectId::new("", "ConfigMap", Some("x"), "a");
        {
            let j = Journal::open(&path, false).unwrap();
            j.record(&a, "d1").unwrap();
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\":")
            .unwrap();
        let j = Journal::open(&path, true).unwrap();
        assert!(j.is_done(&a, "d1"));
        assert!(!j.is_done(&a, "d2"), "a changed object is redone");
        let fresh = Journal::open(&path, false).unwrap();
        assert_eq!(fresh.done_count(), 0);
    }
}
