//! The job table: background work enqueued in the same transaction as the business write that
//! needs it, claimed with a lease so that several workers never run one job at once, and
//! idempotent so that a job re-run after a crash does nothing twice.

use sharemall_domain::{Error, JobId, Timestamp};

use crate::params;
use crate::sql::{Backend, Sql};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    /// The id the job acts on (an order, a refund, …).
    pub subject: String,
    pub attempts: i64,
}

pub fn enqueue(sql: &mut dyn Sql, now: Timestamp, kind: &str, subject: &str, run_at: Timestamp) -> Result<JobId, Error> {
    let id = JobId::new();
    sql.execute(
        "INSERT INTO jobs (id, kind, subject, run_at, attempts, created_at) VALUES ($1, $2, $3, $4, 0, $5)",
        params![id, kind, subject, run_at, now],
    )?;
    Ok(id)
}

/// Claims up to `limit` due jobs for `lease_ms`. A job whose lease lapses (its worker died) is
/// due again.
pub fn claim(sql: &mut dyn Sql, now: Timestamp, limit: i64, lease_ms: i64) -> Result<Vec<Job>, Error> {
    let lock = match sql.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let rows = sql.query(
        &format!(
            "UPDATE jobs SET lease_until = $2, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM jobs WHERE run_at <= $1 AND (lease_until IS NULL OR lease_until < $1) ORDER BY run_at LIMIT $3 {lock}) \
             RETURNING id, kind, subject, attempts"
        ),
        params![now, now.plus_ms(lease_ms), limit],
    )?;
    rows.iter().map(|r| Ok(Job { id: r.id(0)?, kind: r.text(1)?, subject: r.text(2)?, attempts: r.i64(3)? })).collect()
}

pub fn finish(sql: &mut dyn Sql, id: JobId) -> Result<(), Error> {
    sql.execute("DELETE FROM jobs WHERE id = $1", params![id])?;
    Ok(())
}

/// Puts a failed job back for a later attempt.
pub fn retry_later(sql: &mut dyn Sql, id: JobId, run_at: Timestamp, error: &str) -> Result<(), Error> {
    let error: String = error.chars().take(500).collect();
    sql.execute("UPDATE jobs SET run_at = $2, lease_until = NULL, last_error = $3 WHERE id = $1", params![id, run_at, error])?;
    Ok(())
}

pub fn pending_count(sql: &mut dyn Sql) -> Result<i64, Error> {
    sql.query_i64("SELECT COUNT(*) FROM jobs", params![])
}
