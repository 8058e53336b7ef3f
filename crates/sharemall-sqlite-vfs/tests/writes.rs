//! A commit reaches the file in a few writes, not two per page. In a test binary of its own:
//! the write counters are process-wide, and no other test may write meanwhile.

#![allow(clippy::expect_used, reason = "tests fail loudly")]

use rusqlite::{Connection, OpenFlags};
use sharemall_sqlite_vfs::{open_connection, wal_writes};

const FLAGS: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE.union(OpenFlags::SQLITE_OPEN_CREATE).union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

fn insert_rows(conn: &Connection, first: i64, count: i64) {
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    for id in first..first + count {
        conn.execute("INSERT INTO t (id, v) VALUES (?1, ?2)", (id, format!("{id:>12}").repeat(25))).expect("insert");
    }
    conn.execute_batch("COMMIT").expect("commit");
}

#[test]
fn a_commit_reaches_the_file_in_a_few_writes_not_two_per_page() {
    let dir = std::env::temp_dir().join(format!("sharemall-vfs-writes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let conn = open_connection(&dir.join("test.db"), FLAGS).expect("open on the VFS");
    conn.execute_batch("PRAGMA page_size=1024; PRAGMA journal_mode=WAL;").expect("pragmas");
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)").expect("create");
    insert_rows(&conn, 0, 10);
    let before = wal_writes();
    insert_rows(&conn, 1_000, 200);
    let after = wal_writes();
    let (requested, issued) = (after.requested - before.requested, after.issued - before.issued);
    assert!(requested >= 2 * 60, "200 rows of 300 bytes are at least 60 pages, two writes each: {requested}");
    assert!(issued * 10 <= requested, "{issued} writes issued for {requested} requested");
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
}
