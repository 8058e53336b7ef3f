//! The WAL stays bounded under sustained writes: the checkpointer raises [`WalRestartDue`] once a
//! pass leaves the log past the restart size, the writer's after-commit hook restarts it, and
//! `journal_size_limit` trims the file back. Without either half the log only grows: a passive
//! checkpoint never finds a moment when the writer has nothing uncopied, so SQLite never
//! restarts the log by itself.

use super::*;
use rand::{Rng, SeedableRng};
use std::io::Read;

/// Small, so that a short run crosses it many times.
const RESTART_BYTES: u64 = 256 * 1024;
/// Restarts the run must see; each one proves the whole cycle (pass, flag, restart, trim).
const RESTARTS_WANTED: usize = 3;
/// Generous: on a loaded machine a restart waits for the checkpointer's next pass.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);
/// A log this large has plainly stopped restarting: the run ends there rather than fill the disk
/// (without restarts it grew to 1.8 GB in the 60 s deadline).
const RUNAWAY_BYTES: u64 = 128 * RESTART_BYTES;
/// Rows per commit, each on a random leaf: a commit appends some 10–15 frames.
const ROWS_PER_COMMIT: usize = 8;

/// The log's salt-1 (bytes 16..20 of its header), which SQLite increments on every restart.
fn wal_salt(wal: &Path) -> Option<[u8; 4]> {
    let mut header = [0u8; 20];
    std::fs::File::open(wal).and_then(|mut f| f.read_exact(&mut header)).ok()?;
    Some([header[16], header[17], header[18], header[19]])
}

/// Removes the test's directory however the test ends (a failed run leaves a large log).
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn sustained_writes_restart_the_wal_and_keep_it_near_the_restart_size() {
    let dir = std::env::temp_dir().join(format!("sharemall-wal-restart-{:016x}", rand::random::<u64>()));
    let _cleanup = RemoveOnDrop(dir.clone());
    let path = dir.join("store.db");
    let wal = dir.join("store.db-wal");
    let mut conn = open_writer(&path).expect("open the writer");
    conn.execute_batch(&format!(
        "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit={RESTART_BYTES}; \
         CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
    ))
    .expect("set up");
    let alive = Arc::new(());
    let due = Arc::new(WalRestartDue::default());
    start_checkpointer(&path, Arc::downgrade(&alive), RESTART_BYTES, Arc::clone(&due)).expect("start the checkpointer");
    let mut after_commit = restart_wal_when_due(due);

    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let body = "x".repeat(200);
    let started = std::time::Instant::now();
    let mut salt = wal_salt(&wal);
    assert!(salt.is_some(), "the table's creation wrote the log's header");
    let mut restarts = 0;
    let mut largest_after_restart = 0u64;
    let mut largest = 0u64;
    let mut commits = 0u64;
    while restarts < RESTARTS_WANTED && started.elapsed() < DEADLINE && largest < RUNAWAY_BYTES {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).expect("begin");
        for _ in 0..ROWS_PER_COMMIT {
            tx.execute("INSERT OR REPLACE INTO t (id, body) VALUES (?1, ?2)", rusqlite::params![rng.random_range(0..200_000i64), body])
                .expect("insert");
        }
        tx.commit().expect("commit");
        commits += 1;
        after_commit(&mut conn);
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        largest = largest.max(size);
        let now = wal_salt(&wal);
        if now != salt {
            // The first commit after a restart wrote the new header and trimmed the file.
            restarts += 1;
            largest_after_restart = largest_after_restart.max(size);
            salt = now;
        }
    }
    drop(alive);

    assert!(
        restarts >= RESTARTS_WANTED,
        "the log restarted {restarts} times in {commits} commits ({:?}); it grew to {largest} bytes",
        started.elapsed()
    );
    // A restarted log is trimmed to the limit; what lies past it is the one commit written since.
    let one_commit = 64 * 1024;
    assert!(
        largest_after_restart <= RESTART_BYTES + one_commit,
        "after a restart the log was {largest_after_restart} bytes, past the {RESTART_BYTES}-byte limit"
    );
}
