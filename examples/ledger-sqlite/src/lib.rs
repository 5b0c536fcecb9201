//! A fenrun ledger kept in SQLite, the way a Rust service that takes a shop's
//! webhooks would keep one (docs/ledger.md).
//!
//! The database holds the period's **journal** (every event applied, in
//! order, as its canonical JSON) and its latest **snapshot**. Opening the
//! store restores the snapshot and replays the journal's events after it, so
//! a process that stopped at any moment goes on where its last committed
//! transaction left it. Each event is checked by the ledger before it is
//! written, so the journal holds only accepted events; a retried webhook is a
//! duplicate and writes nothing.
//!
//! ```
//! let policy = fenrun::Policy::from_json(r#"{"version": 2,
//!   "ranks": [{"id": "member", "rate": "0.10"}],
//!   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
//! let db = rusqlite::Connection::open_in_memory()?;
//! let mut store = fenrun_example_ledger_sqlite::Store::open(db, &policy, Some(r#"{"members": [{"id": "m1"}]}"#))?;
//! store.apply(r#"{"id": "o1", "seller": "m1", "amount": "20.00"}"#)?;
//! assert!(store.apply(r#"{"id": "o1", "seller": "m1", "amount": "20.00"}"#)?.duplicate);
//! assert_eq!(store.settlement()?.total_of("m1").unwrap().to_string(), "2.00");
//! # Ok::<(), fenrun_example_ledger_sqlite::StoreError>(())
//! ```

use fenrun::input::StreamEvent;
use fenrun::{Applied, Ledger, Policy, Settlement};
use rusqlite::{params, Connection, OptionalExtension};

/// A snapshot is written after this many new events by default.
pub const SNAPSHOT_EVERY: usize = 10_000;

/// What can go wrong: the ledger refused something, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The ledger's own error (refused event, foreign snapshot, …), with its code.
    #[error(transparent)]
    Fenrun(#[from] fenrun::Error),
    /// SQLite's.
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The database holds no period and none was given to open.
    #[error("no period in this database: open one with its starting members first")]
    NoPeriod,
}

/// A ledger and the SQLite database that keeps it.
pub struct Store {
    db: Connection,
    ledger: Ledger,
    /// Events applied since the last snapshot was written.
    since_snapshot: usize,
    /// Write a snapshot after this many new events.
    pub snapshot_every: usize,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS journal (
    position INTEGER PRIMARY KEY,   -- the event's place in the stream, from 0
    id       TEXT NOT NULL UNIQUE,  -- the event's id
    event    TEXT NOT NULL          -- its canonical JSON
);
CREATE TABLE IF NOT EXISTS snapshot (
    one    INTEGER PRIMARY KEY CHECK (one = 1),  -- a single row: the latest snapshot
    events INTEGER NOT NULL,                     -- the journal events it holds
    data   BLOB NOT NULL                         -- Ledger::snapshot()
);";

impl Store {
    /// Open the period kept in `db`, or start one with the batch document
    /// `start` (starting members and groups; its events are applied too)
    /// when the database holds none. With a period already there, `start`
    /// is ignored.
    pub fn open(db: Connection, policy: &Policy, start: Option<&str>) -> Result<Store, StoreError> {
        db.execute_batch(SCHEMA)?;
        let saved: Option<Vec<u8>> = db
            .query_row("SELECT data FROM snapshot WHERE one = 1", [], |row| {
                row.get(0)
            })
            .optional()?;
        let mut store = match saved {
            Some(data) => {
                let ledger = Ledger::restore(policy, &data)?;
                Store::with(db, ledger)
            }
            None => {
                let ledger = Ledger::open_json(policy, start.ok_or(StoreError::NoPeriod)?)?;
                let mut store = Store::with(db, ledger);
                store.write_snapshot()?;
                store
            }
        };
        store.replay_journal()?;
        Ok(store)
    }

    fn with(db: Connection, ledger: Ledger) -> Store {
        Store {
            db,
            ledger,
            since_snapshot: 0,
            snapshot_every: SNAPSHOT_EVERY,
        }
    }

    /// The journal's events after the snapshot, applied again.
    fn replay_journal(&mut self) -> Result<(), StoreError> {
        let mut query = self
            .db
            .prepare("SELECT event FROM journal WHERE position >= ?1 ORDER BY position")?;
        let rows = query.query_map([sql_int(self.ledger.len())], |row| row.get::<_, String>(0))?;
        for event in rows {
            self.ledger.apply_json(&event?)?;
            self.since_snapshot += 1;
        }
        Ok(())
    }

    /// Apply one event (JSON text): checked by the ledger, then written to
    /// the journal in its own transaction. A duplicate writes nothing; a
    /// refused event writes nothing and changes nothing.
    pub fn apply(&mut self, event: &str) -> Result<Applied, StoreError> {
        let event = StreamEvent::from_json(event)?;
        let applied = self.ledger.apply(&event)?;
        if !applied.duplicate {
            self.db.execute(
                "INSERT INTO journal (position, id, event) VALUES (?1, ?2, ?3)",
                params![sql_int(applied.position), event.id(), event.to_json()],
            )?;
            self.since_snapshot += 1;
            if self.since_snapshot >= self.snapshot_every {
                self.write_snapshot()?;
            }
        }
        Ok(applied)
    }

    /// Apply the events of JSON Lines text in one transaction: all written,
    /// or, when one is refused, every event before it (then its error).
    pub fn apply_lines(&mut self, text: &str) -> Result<fenrun::Tally, StoreError> {
        self.db.execute_batch("BEGIN IMMEDIATE")?;
        let mut tally = fenrun::Tally::default();
        let mut outcome = Ok(());
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match self.apply(line) {
                Ok(applied) => tally.count(&applied),
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        self.db.execute_batch("COMMIT")?;
        outcome.map(|()| tally)
    }

    /// Write the ledger's snapshot (replacing the previous one) in one
    /// transaction; the journal is kept whole, as the period's audit trail.
    pub fn write_snapshot(&mut self) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT OR REPLACE INTO snapshot (one, events, data) VALUES (1, ?1, ?2)",
            params![sql_int(self.ledger.len()), self.ledger.snapshot()],
        )?;
        self.since_snapshot = 0;
        Ok(())
    }

    /// The settlement of the events so far (the period stays open).
    pub fn settlement(&self) -> Result<Settlement, StoreError> {
        Ok(self.ledger.settlement()?)
    }

    /// The ledger, for anything else (`len`, `engine` for explanations).
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
}

/// A count or position as SQLite's integer (a stream never nears `i64::MAX`).
fn sql_int(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
