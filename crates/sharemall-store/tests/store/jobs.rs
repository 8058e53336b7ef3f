//! The job table: two claimers never get the same job.

use sharemall_domain::{JobId, Timestamp};
use sharemall_store::ops::jobs;
use sharemall_store::{Location, Sql, postgres::PgConn, sqlite};
use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use crate::harness::*;

async fn enqueue(h: &Harness, count: usize, run_at: Timestamp) {
    h.store
        .write(move |sql| {
            for i in 0..count {
                jobs::enqueue(sql, T0, "test_job", &format!("subject-{i}"), run_at)?;
            }
            Ok(())
        })
        .await
        .expect("enqueue");
}

/// A raw connection of its own, outside the store's writer.
fn connect(url: &str) -> Box<dyn Sql + Send> {
    match Location::parse(url) {
        Location::Sqlite(path) => Box::new(sqlite::open(&path).expect("sqlite")),
        Location::Postgres(url) => Box::new(PgConn::connect(&url).expect("postgres")),
    }
}

fn begin(sql: &mut dyn Sql) {
    let begin = match sql.backend() {
        sharemall_store::Backend::Sqlite => "BEGIN IMMEDIATE",
        sharemall_store::Backend::Postgres => "BEGIN",
    };
    sql.batch(begin).expect("begin");
}

backend_test! {
    /// Two stores (two writers, two connections) claim in a loop until the queue is empty:
    /// every job is handed out exactly once.
    async fn claimers_never_share_a_job(h: Harness) {
        enqueue(&h, 300, T0).await;
        enqueue(&h, 5, T0.plus_ms(1_000_000)).await; // not due
        let second = open_store(&h.url).await;
        let mut handles = Vec::new();
        for store in [h.store.clone(), second.clone(), h.store.clone(), second] {
            handles.push(tokio::spawn(async move {
                let mut mine: Vec<JobId> = Vec::new();
                loop {
                    let claimed = store.write(|sql| jobs::claim(sql, T0, 7, 60_000)).await.expect("claim");
                    if claimed.is_empty() {
                        return mine;
                    }
                    assert!(claimed.iter().all(|j| j.attempts == 1 && j.kind == "test_job"));
                    mine.extend(claimed.into_iter().map(|j| j.id));
                }
            }));
        }
        let mut seen = HashSet::new();
        for handle in handles {
            for id in handle.await.expect("claimer") {
                assert!(seen.insert(id), "[{:?}] job {id} handed out twice", h.kind);
            }
        }
        assert_eq!(seen.len(), 300, "[{:?}]", h.kind);

        // A lapsed lease makes a job due again; a finished job is gone.
        let after = T0.plus_ms(60_001);
        let again = h.store.write(move |sql| jobs::claim(sql, after, 1_000, 60_000)).await.expect("reclaim");
        assert_eq!(again.len(), 300);
        assert!(again.iter().all(|j| j.attempts == 2));
        let first = again[0].id;
        h.store.write(move |sql| jobs::finish(sql, first)).await.expect("finish");
        let second_id = again[1].id;
        h.store.write(move |sql| jobs::retry_later(sql, second_id, T0, "boom")).await.expect("retry");
        let retried = h.store.write(move |sql| jobs::claim(sql, T0, 10, 60_000)).await.expect("claim retried");
        assert_eq!(retried.iter().map(|j| j.id).collect::<Vec<_>>(), vec![second_id]);
        assert_eq!(h.store.read(jobs::pending_count).await.expect("count"), 304);
    }
}

backend_test! {
    /// One claimer holds its transaction open while the other claims: the second gets other
    /// jobs (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: it waits for the first to commit).
    async fn claim_skips_jobs_locked_by_an_open_transaction(h: Harness) {
        enqueue(&h, 40, T0).await;
        let barrier = Arc::new(Barrier::new(2));
        let (url_a, url_b, barrier_a, barrier_b) = (h.url.clone(), h.url.clone(), Arc::clone(&barrier), barrier);
        let a = tokio::task::spawn_blocking(move || {
            let mut conn = connect(&url_a);
            begin(conn.as_mut());
            let claimed = jobs::claim(conn.as_mut(), T0, 10, 60_000).expect("claim a");
            barrier_a.wait();
            std::thread::sleep(std::time::Duration::from_millis(300));
            conn.batch("COMMIT").expect("commit a");
            claimed
        });
        let b = tokio::task::spawn_blocking(move || {
            let mut conn = connect(&url_b);
            barrier_b.wait();
            let started = std::time::Instant::now();
            begin(conn.as_mut());
            let claimed = jobs::claim(conn.as_mut(), T0, 10, 60_000).expect("claim b");
            conn.batch("COMMIT").expect("commit b");
            (claimed, started.elapsed())
        });
        let claimed_a = a.await.expect("a");
        let (claimed_b, waited) = b.await.expect("b");
        assert_eq!((claimed_a.len(), claimed_b.len()), (10, 10), "[{:?}]", h.kind);
        let ids: HashSet<JobId> = claimed_a.iter().chain(&claimed_b).map(|j| j.id).collect();
        assert_eq!(ids.len(), 20, "[{:?}] a job was claimed twice", h.kind);
        if h.kind == Kind::Postgres {
            assert!(waited < std::time::Duration::from_millis(250), "SKIP LOCKED should not wait ({waited:?})");
        }
    }
}
