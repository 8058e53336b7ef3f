//! The writer thread runs at nice −10 when the process may raise priorities (CI runs as root), and
//! at the default 0 when it may not. Its own test binary: no other test's store shares the
//! process, so every `store-writer` thread seen here is this test's.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sharemall_store::{Store, StoreConfig};

/// The nice value of every thread of this process named `name`.
fn nice_of_threads(name: &str) -> Vec<i64> {
    let mut nice = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let dir = task.expect("a task").path();
        if std::fs::read_to_string(dir.join("comm")).expect("comm").trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).expect("stat");
        // After the parenthesised name (which may hold spaces) come fields 3, 4, …; nice is 19.
        let fields: Vec<&str> = stat.rsplit_once(')').expect("a name in parentheses").1.split_whitespace().collect();
        nice.push(fields[19 - 3].parse().expect("a nice value"));
    }
    nice
}

/// Every thread of this process with its nice value, for a failure's message.
fn threads() -> Vec<(String, Vec<i64>)> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .collect();
    names.sort();
    names.dedup();
    names.into_iter().map(|name| (name.clone(), nice_of_threads(&name))).collect()
}

/// Whether this process holds CAP_SYS_NICE (bit 23 of its effective capabilities).
fn may_raise_priority() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let caps = status.lines().find_map(|l| l.strip_prefix("CapEff:")).expect("CapEff");
    u64::from_str_radix(caps.trim(), 16).expect("hex capabilities") & (1 << 23) != 0
}

#[tokio::test]
async fn the_writer_thread_is_scheduled_ahead_of_request_threads() {
    let dir = std::env::temp_dir().join(format!("sharemall-priority-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = StoreConfig { url: format!("sqlite://{}", dir.join("store.db").display()), readers: 1, batch_max: 16 };
    let store = Store::open(&config, 0).expect("open");
    // A write has been applied, so the writer thread is past its start.
    store.write(|sql| sql.query("SELECT 1", &[])).await.expect("a write");
    let expected = if may_raise_priority() { -10 } else { 0 };
    assert_eq!(nice_of_threads("store-writer"), vec![expected], "every thread (name, nice): {:?}", threads());
    assert_eq!(nice_of_threads("store-reader-0"), vec![0], "the reader keeps the default priority");
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
