//! The run history, like Logic Apps' "Runs history": every run kept in a
//! SQLite database in the lab directory (`flow-runs.db`), one row per run
//! (its whole document, already redacted: no `Authorization` header, token
//! or secure input ever reaches it) and one row per action and iteration
//! in `run_actions`, for queries: the run's row id and the action's order
//! in the run as its key, its path (`Loop[3]/Compose`), type, status,
//! start and end (Unix milliseconds) and number of attempts.
//!
//! Schema version 2 (`PRAGMA user_version`); version 1's `actions` table,
//! keyed by text, was slow to fill for a 10,000-iteration run and is
//! dropped when an older database is opened (the run documents keep
//! everything it held).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::run::{ActionRecord, Run, timestamp};

/// The database's file name in the lab directory.
pub const FILE: &str = "flow-runs.db";

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// SQLite failed.
    #[error("run history {path}: {source}")]
    Sqlite {
        /// The database.
        path: PathBuf,
        /// The error.
        source: rusqlite::Error,
    },
    /// No run has this id (or prefix).
    #[error("no run '{0}' in the history (graphlab flow runs lists them)")]
    NotFound(String),
    /// A prefix matches several runs.
    #[error("'{0}' matches several runs; give more of the id")]
    Ambiguous(String),
    /// The directory could not be made.
    #[error("{path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// One line of `graphlab flow runs`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Run id.
    pub id: String,
    /// Workflow name.
    pub workflow: String,
    /// Status.
    pub status: String,
    /// Start (RFC 3339).
    pub start: String,
    /// End (RFC 3339).
    pub end: String,
}

/// An open history.
#[derive(Debug)]
pub struct History {
    path: PathBuf,
    db: Connection,
}

impl History {
    /// Opens (or creates, owner-only) the history in `dir`.
    pub fn open(dir: &Path) -> Result<History, HistoryError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| HistoryError::Io { path: dir.to_owned(), source })?;
        let path = dir.join(FILE);
        let fresh = !path.exists();
        let sql = |source| HistoryError::Sqlite { path: path.clone(), source };
        let db = Connection::open(&path).map_err(sql)?;
        #[cfg(unix)]
        if fresh {
            use std::os::unix::fs::PermissionsExt;
            let _ =
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        let _ = fresh;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             BEGIN;
             CREATE TABLE IF NOT EXISTS runs (
                 id TEXT PRIMARY KEY, workflow TEXT NOT NULL, status TEXT NOT NULL,
                 start TEXT NOT NULL, end TEXT NOT NULL, document TEXT NOT NULL);
             DROP TABLE IF EXISTS actions;
             CREATE TABLE IF NOT EXISTS run_actions (
                 run INTEGER NOT NULL, seq INTEGER NOT NULL, path TEXT NOT NULL,
                 type TEXT NOT NULL, status TEXT NOT NULL, start_ms INTEGER NOT NULL,
                 end_ms INTEGER NOT NULL, attempts INTEGER NOT NULL,
                 PRIMARY KEY (run, seq)) WITHOUT ROWID;
             PRAGMA user_version = 2;
             COMMIT;",
        )
        .map_err(sql)?;
        Ok(History { path, db })
    }

    fn err(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Sqlite { path: self.path.clone(), source }
    }

    /// Saves a run (in one transaction); saving a run with the same id
    /// again replaces it.
    pub fn save(&mut self, run: &Run) -> Result<(), HistoryError> {
        let document = run.to_json_string();
        let path = self.path.clone();
        let sql = |source| HistoryError::Sqlite { path: path.clone(), source };
        let tx = self.db.transaction().map_err(sql)?;
        let key: i64 = tx
            .query_row(
                "INSERT INTO runs (id, workflow, status, start, end, document)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET workflow = excluded.workflow,
                     status = excluded.status, start = excluded.start,
                     end = excluded.end, document = excluded.document
                 RETURNING rowid",
                params![
                    run.id,
                    run.workflow,
                    run.status.as_str(),
                    timestamp(run.start),
                    timestamp(run.end),
                    document
                ],
                |r| r.get(0),
            )
            .map_err(sql)?;
        tx.execute("DELETE FROM run_actions WHERE run = ?1", params![key])
            .map_err(sql)?;
        {
            let mut rows = Rows {
                run: key,
                seq: 0,
                path: String::new(),
                insert: tx
                    .prepare(
                        "INSERT INTO run_actions
                         (run, seq, path, type, status, start_ms, end_ms, attempts)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    )
                    .map_err(sql)?,
            };
            rows.add(&run.actions).map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// The newest runs first.
    pub fn list(&self, limit: usize) -> Result<Vec<RunSummary>, HistoryError> {
        let mut q = self
            .db
            .prepare(
                "SELECT id, workflow, status, start, end FROM runs
                 ORDER BY start DESC, rowid DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = q
            .query_map(params![limit as i64], |r| {
                Ok(RunSummary {
                    id: r.get(0)?,
                    workflow: r.get(1)?,
                    status: r.get(2)?,
                    start: r.get(3)?,
                    end: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A run's document, by id or unique prefix (`latest` is the newest).
    pub fn get(&self, id: &str) -> Result<Value, HistoryError> {
        let ids: Vec<String> = if id == "latest" {
            self.list(1)?.into_iter().map(|r| r.id).collect()
        } else {
            let mut q = self
                .db
                .prepare(
                    "SELECT id FROM runs WHERE id LIKE ?1 || '%' ESCAPE '\\' LIMIT 2",
                )
                .map_err(|e| self.err(e))?;
            let escaped =
                id.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let rows =
                q.query_map(params![escaped], |r| r.get(0)).map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?
        };
        let found = match ids.as_slice() {
            [] => return Err(HistoryError::NotFound(id.to_owned())),
            [one] => one.clone(),
            _ => return Err(HistoryError::Ambiguous(id.to_owned())),
        };
        let text: Option<String> = self
            .db
            .query_row("SELECT document FROM runs WHERE id = ?1", params![found], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        let text = text.ok_or_else(|| HistoryError::NotFound(id.to_owned()))?;
        serde_json::from_str(&text).map_err(|e| {
            self.err(rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                Box::new(e),
            ))
        })
    }
}

/// Writes `run_actions` rows, depth first, building each path in one
/// buffer.
struct Rows<'c> {
    run: i64,
    seq: i64,
    path: String,
    insert: rusqlite::Statement<'c>,
}

impl Rows<'_> {
    fn add(&mut self, actions: &BTreeMap<String, ActionRecord>) -> rusqlite::Result<()> {
        use std::fmt::Write;
        let parent = self.path.len();
        for (name, record) in actions {
            self.path.truncate(parent);
            self.path.push_str(name);
            self.insert.execute(params![
                self.run,
                self.seq,
                self.path,
                record.type_name,
                record.status.as_str(),
                unix_ms(record.start),
                unix_ms(record.end),
                record.attempts.len() as i64
            ])?;
            self.seq += 1;
            let here = self.path.len();
            self.path.push('/');
            self.add(&record.actions)?;
            for rep in &record.repetitions {
                self.path.truncate(here);
                let _ = write!(self.path, "[{}]/", rep.index);
                self.add(&rep.actions)?;
            }
        }
        self.path.truncate(parent);
        Ok(())
    }
}

fn unix_ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}
