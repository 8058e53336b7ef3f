//! The VFS against real files: what one connection writes, every connection reads, through
//! commits, rollbacks, spills, checkpoints and restarts; and a commit is one write.

#![allow(clippy::expect_used, reason = "tests fail loudly")]

use rusqlite::{Connection, OpenFlags};
use sharemall_sqlite_vfs::open_connection;
use std::path::{Path, PathBuf};

const FLAGS: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE.union(OpenFlags::SQLITE_OPEN_CREATE).union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_db(name: &str) -> (Dir, PathBuf) {
    let dir = std::env::temp_dir().join(format!("sharemall-vfs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("test.db");
    (Dir(dir), path)
}

fn writer(path: &Path) -> Connection {
    let conn = open_connection(path, FLAGS).expect("open on the VFS");
    conn.execute_batch("PRAGMA page_size=1024; PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;").expect("pragmas");
    conn
}

#[test]
fn savepoints_and_rollbacks_inside_a_transaction() {
    let (_dir, path) = temp_db("savepoints");
    let conn = writer(&path);
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").expect("create");
    conn.execute_batch(
        "BEGIN IMMEDIATE; SAVEPOINT a; INSERT INTO t (v) VALUES ('kept'); RELEASE a; \
        SAVEPOINT b; INSERT INTO t (v) VALUES ('dropped'); ROLLBACK TO b; RELEASE b; COMMIT;",
    )
    .expect("transaction");
    let kept: Vec<String> = conn
        .prepare("SELECT v FROM t")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(kept, vec!["kept".to_string()]);
}

/// Rows of about 300 bytes, like orders, so a commit of 100 rows dirties well over 64 KiB.
fn insert_rows(conn: &Connection, first: i64, count: i64) {
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    for id in first..first + count {
        conn.execute("INSERT INTO t (id, v) VALUES (?1, ?2)", (id, format!("{id:>12}").repeat(25))).expect("insert");
    }
    conn.execute_batch("COMMIT").expect("commit");
}

fn count(conn: &Connection) -> i64 {
    conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).expect("count")
}

#[test]
fn another_connection_reads_every_commit_through_checkpoints_and_restarts() {
    let (_dir, path) = temp_db("readers");
    let conn = writer(&path);
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL); CREATE INDEX t_v ON t (v)").expect("create");
    // A reader on the default VFS, as the store's readers and checkpointer are.
    let reader = Connection::open_with_flags(&path, FLAGS).expect("reader");
    let mut rows = 0;
    for round in 0..40 {
        // Every fifth commit is larger than the default VFS's largest write (128 KiB).
        let size = if round % 5 == 0 { 1_000 } else { 100 };
        insert_rows(&conn, round * 1_000, size);
        rows += size;
        assert_eq!(count(&reader), rows, "round {round}");
        match round % 10 {
            3 => reader.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).expect("passive checkpoint"),
            7 => conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())).expect("restart"),
            9 => conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("truncate"),
            _ => {}
        }
    }
    let check: String = reader.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity");
    assert_eq!(check, "ok");
    drop(conn);
    drop(reader);
    // The file alone, reopened without the VFS, holds everything.
    let plain = Connection::open(&path).expect("reopen");
    assert_eq!(count(&plain), 11_200);
}

#[test]
fn a_transaction_larger_than_the_page_cache_spills_and_reads_its_own_frames_back() {
    let (_dir, path) = temp_db("spill");
    let conn = writer(&path);
    // Twenty pages of cache: the transaction below must write frames before its commit and
    // read some of them back.
    conn.execute_batch("PRAGMA cache_size=20; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL); CREATE INDEX t_v ON t (v)")
        .expect("create");
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    for id in 0..3_000i64 {
        conn.execute("INSERT INTO t (id, v) VALUES (?1, ?2)", (id, format!("{:>12}", (id * 7919) % 3_001).repeat(25))).expect("insert");
    }
    let sum: i64 = conn.query_row("SELECT SUM(id) FROM t WHERE v > ''", [], |r| r.get(0)).expect("read back");
    assert_eq!(sum, (0..3_000).sum::<i64>());
    conn.execute_batch("COMMIT").expect("commit");
    // A rolled-back spill leaves nothing behind.
    conn.execute_batch("BEGIN IMMEDIATE; DELETE FROM t; ROLLBACK;").expect("rollback");
    let reader = Connection::open_with_flags(&path, FLAGS).expect("reader");
    assert_eq!(count(&reader), 3_000);
    let check: String = reader.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity");
    assert_eq!(check, "ok");
}
