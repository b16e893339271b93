//! The tenant's state: JSON objects in named collections, served from memory
//! and written through to SQLite (WAL) before a change becomes visible.
//!
//! Every change runs in [`Store::write`]: the closure stages puts and deletes,
//! the staged changes are committed to SQLite in one transaction, and only then
//! applied to memory, all under one lock. A change is therefore either durable
//! and visible, or neither; concurrent writers cannot lose each other's updates.

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    sync::{Mutex, RwLock},
};

use rusqlite::{Connection, params};
use serde_json::Value;

/// Errors opening or writing the state database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("state database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored document is not valid JSON.
    #[error(
        "state database {path}: object {collection}/{id} is not valid JSON: {source}"
    )]
    Corrupt {
        /// The database file.
        path: String,
        /// Collection name.
        collection: String,
        /// Object id.
        id: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

/// The collections the tenant keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Col {
    /// Users.
    Users,
    /// Groups.
    Groups,
    /// Teams, keyed by their group's id.
    Teams,
    /// Channels (`_teamId` names the team).
    Channels,
    /// Mail messages (`_ownerId` names the mailbox).
    Messages,
    /// Calendar events (`_ownerId` names the calendar's user).
    Events,
    /// App registrations.
    Applications,
    /// Service principals.
    ServicePrincipals,
    /// Delegated permission grants.
    Grants,
    /// OneNote notebooks (`_groupId` names the owner group).
    Notebooks,
    /// Refresh tokens, keyed by the hash of the token (never the token).
    RefreshTokens,
}

impl Col {
    /// Every collection.
    pub const ALL: [Col; 11] = [
        Col::Users,
        Col::Groups,
        Col::Teams,
        Col::Channels,
        Col::Messages,
        Col::Events,
        Col::Applications,
        Col::ServicePrincipals,
        Col::Grants,
        Col::Notebooks,
        Col::RefreshTokens,
    ];

    /// The collection's name in the database.
    pub fn name(self) -> &'static str {
        match self {
            Col::Users => "users",
            Col::Groups => "groups",
            Col::Teams => "teams",
            Col::Channels => "channels",
            Col::Messages => "messages",
            Col::Events => "events",
            Col::Applications => "applications",
            Col::ServicePrincipals => "servicePrincipals",
            Col::Grants => "oauth2PermissionGrants",
            Col::Notebooks => "notebooks",
            Col::RefreshTokens => "refreshTokens",
        }
    }

    fn from_name(name: &str) -> Option<Col> {
        Col::ALL.into_iter().find(|c| c.name() == name)
    }
}

type Collections = HashMap<Col, BTreeMap<String, Value>>;

/// The tenant's objects, in memory and (unless in-memory) on disk.
#[derive(Debug)]
pub struct Store {
    data: RwLock<Collections>,
    db: Mutex<Connection>,
    path: String,
}

/// A change being prepared inside [`Store::write`].
#[derive(Debug)]
pub struct WriteTx<'a> {
    data: &'a Collections,
    staged: Vec<(Col, String, Option<Value>)>,
    meta: Vec<(String, String)>,
}

impl WriteTx<'_> {
    /// Reads an object, seeing this transaction's own staged changes.
    pub fn get(&self, col: Col, id: &str) -> Option<Value> {
        for (c, i, v) in self.staged.iter().rev() {
            if *c == col && i == id {
                return v.clone();
            }
        }
        self.data.get(&col).and_then(|m| m.get(id)).cloned()
    }

    /// Every committed object of a collection (not this transaction's changes).
    pub fn committed(&self, col: Col) -> impl Iterator<Item = &Value> {
        self.data.get(&col).into_iter().flat_map(|m| m.values())
    }

    /// Stages an insert or replacement.
    pub fn put(&mut self, col: Col, id: &str, value: Value) {
        self.staged.push((col, id.to_owned(), Some(value)));
    }

    /// Stages a deletion.
    pub fn delete(&mut self, col: Col, id: &str) {
        self.staged.push((col, id.to_owned(), None));
    }

    /// Stages a metadata value.
    pub fn set_meta(&mut self, key: &str, value: &str) {
        self.meta.push((key.to_owned(), value.to_owned()));
    }
}

impl Store {
    /// Opens (creating if needed) the state database at `path`, or an
    /// in-memory one when `path` is `None`.
    pub fn open(path: Option<&Path>) -> Result<Store, StoreError> {
        let label =
            path.map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string());
        let err = |source| StoreError::Sqlite { path: label.clone(), source };
        let conn = match path {
            Some(p) => Connection::open(p).map_err(err)?,
            None => Connection::open_in_memory().map_err(err)?,
        };
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS objects (
                 collection TEXT NOT NULL,
                 id TEXT NOT NULL,
                 body TEXT NOT NULL,
                 PRIMARY KEY (collection, id)
             );
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )
        .map_err(err)?;

        let mut data: Collections =
            Col::ALL.iter().map(|c| (*c, BTreeMap::new())).collect();
        {
            let mut stmt =
                conn.prepare("SELECT collection, id, body FROM objects").map_err(err)?;
            let rows = stmt
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                })
                .map_err(err)?;
            for row in rows {
                let (collection, id, body) = row.map_err(err)?;
                let Some(col) = Col::from_name(&collection) else { continue };
                let value = serde_json::from_str(&body).map_err(|source| {
                    StoreError::Corrupt {
                        path: label.clone(),
                        collection: collection.clone(),
                        id: id.clone(),
                        source,
                    }
                })?;
                data.entry(col).or_default().insert(id, value);
            }
        }
        Ok(Store { data: RwLock::new(data), db: Mutex::new(conn), path: label })
    }

    /// Reads one object.
    pub fn get(&self, col: Col, id: &str) -> Option<Value> {
        self.read(|data| data.get(&col).and_then(|m| m.get(id)).cloned())
    }

    /// Runs `f` over one collection (ordered by id) under the read lock.
    pub fn scan<R>(&self, col: Col, f: impl FnOnce(&BTreeMap<String, Value>) -> R) -> R {
        self.read(|data| match data.get(&col) {
            Some(m) => f(m),
            None => f(&BTreeMap::new()),
        })
    }

    fn read<R>(&self, f: impl FnOnce(&Collections) -> R) -> R {
        let guard = self.data.read().unwrap_or_else(|e| e.into_inner());
        f(&guard)
    }

    /// Reads a metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        db.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0))
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(|source| StoreError::Sqlite { path: self.path.clone(), source })
    }

    /// Runs a change: `f` stages it, then it is made durable and visible at once.
    /// If `f` fails, nothing is written.
    pub fn write<R, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut WriteTx<'_>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut data = self.data.write().unwrap_or_else(|e| e.into_inner());
        let mut tx = WriteTx { data: &data, staged: Vec::new(), meta: Vec::new() };
        let result = f(&mut tx)?;
        let WriteTx { staged, meta, .. } = tx;
        if staged.is_empty() && meta.is_empty() {
            return Ok(result);
        }
        self.persist(&staged, &meta).map_err(E::from)?;
        for (col, id, value) in staged {
            let map = data.entry(col).or_default();
            match value {
                Some(v) => {
                    map.insert(id, v);
                }
                None => {
                    map.remove(&id);
                }
            }
        }
        Ok(result)
    }

    fn persist(
        &self,
        staged: &[(Col, String, Option<Value>)],
        meta: &[(String, String)],
    ) -> Result<(), StoreError> {
        let err = |source| StoreError::Sqlite { path: self.path.clone(), source };
        let mut db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let tx = db.transaction().map_err(err)?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT INTO objects (collection, id, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body",
                )
                .map_err(err)?;
            let mut del = tx
                .prepare_cached("DELETE FROM objects WHERE collection = ?1 AND id = ?2")
                .map_err(err)?;
            for (col, id, value) in staged {
                match value {
                    Some(v) => put.execute(params![col.name(), id, v.to_string()]),
                    None => del.execute(params![col.name(), id]),
                }
                .map_err(err)?;
            }
            let mut set = tx
                .prepare_cached(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .map_err(err)?;
            for (k, v) in meta {
                set.execute(params![k, v]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }
}
