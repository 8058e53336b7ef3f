//! The job runner: claims due jobs with a lease, runs each, and finishes or reschedules it.
//! `serve` runs it in-process; `worker` runs it alone; several processes share one job table
//! without running a job twice at once (the lease), and every job is idempotent, so a job
//! re-run after a crash does nothing twice.

use sharemall_domain::{Error, OrderId, RefundId};
use sharemall_store::ops::after_sales::JOB_AFTER_SALE_DEADLINE;
use sharemall_store::ops::fulfilment::{self, JOB_AUTO_RECEIVE, JOB_COMPLETE, ReceiveBy};
use sharemall_store::ops::jobs::{self, Job};
use sharemall_store::ops::orders::{self, CancelBy, JOB_CANCEL_UNPAID};
use sharemall_store::ops::payments::JOB_EXECUTE_REFUND;
use sharemall_store::ops::withdrawals::JOB_EXECUTE_PAYOUT;
use std::time::Duration;

use crate::{App, after_sales, earnings, groups, payments, sandbox, withdrawals};

/// Most jobs claimed per round.
pub const CLAIM_BATCH: i64 = 100;
/// How long a claimed job is ours before another worker may take it.
pub const LEASE_MS: i64 = 60_000;
const MAX_BACKOFF_MS: i64 = 3_600_000;

fn parse_id<T: std::str::FromStr>(job: &Job) -> Result<T, Error> {
    job.subject.parse().map_err(|_| Error::internal(format!("job {} has a bad subject {}", job.kind, job.subject)))
}

async fn run_one(app: &App, job: &Job) -> Result<(), Error> {
    let now = app.now();
    match job.kind.as_str() {
        JOB_CANCEL_UNPAID => {
            let id: OrderId = parse_id(job)?;
            app.store.write(move |sql| orders::cancel_order(sql, now, id, CancelBy::Deadline)).await.map(|_| ())
        }
        JOB_AUTO_RECEIVE => {
            let (id, auto_receive_ms, buffer): (OrderId, i64, i64) =
                (parse_id(job)?, app.config.auto_receive_ms, app.config.settle_buffer_ms);
            app.store
                .write(move |sql| fulfilment::confirm_receipt(sql, now, id, ReceiveBy::Deadline { auto_receive_ms }, buffer))
                .await
                .map(|_| ())
        }
        JOB_COMPLETE => {
            let id: OrderId = parse_id(job)?;
            app.store.write(move |sql| fulfilment::complete(sql, now, id)).await.map(|_| ())
        }
        JOB_EXECUTE_REFUND => payments::execute_refund(app, parse_id::<RefundId>(job)?).await,
        sandbox::JOB_NOTIFY => sandbox::redeliver(app, &job.subject).await,
        JOB_EXECUTE_PAYOUT => withdrawals::execute_payout(app, parse_id(job)?, job.attempts).await,
        JOB_AFTER_SALE_DEADLINE => after_sales::on_deadline(app, parse_id(job)?).await,
        other => Err(Error::internal(format!("unknown job kind {other}"))),
    }
}

/// Runs one round: settles expired groups and due commission, then claims up to
/// [`CLAIM_BATCH`] due jobs and runs them (the refunds a sweep starts run in the same round).
/// Returns how many jobs ran.
pub async fn run_due(app: &App) -> Result<usize, Error> {
    let swept = groups::sweep(app).await?;
    if swept.failed + swept.platform_completed > 0 {
        tracing::info!(failed = swept.failed, platform_completed = swept.platform_completed, refunds = swept.refunds, "groups settled");
    }
    let settled = earnings::settle_due(app).await?;
    if settled > 0 {
        tracing::info!(settled, "commission settled");
    }
    let now = app.now();
    let claimed = app.store.write(move |sql| jobs::claim(sql, now, CLAIM_BATCH, LEASE_MS)).await?;
    let count = claimed.len();
    for job in claimed {
        let outcome = run_one(app, &job).await;
        let id = job.id;
        match outcome {
            Ok(()) => app.store.write(move |sql| jobs::finish(sql, id)).await?,
            Err(e) => {
                tracing::warn!(kind = %job.kind, subject = %job.subject, attempts = job.attempts, error = %e, "job failed; will retry");
                let backoff = (1_000i64 << job.attempts.clamp(0, 20)).min(MAX_BACKOFF_MS);
                let (retry_at, message) = (app.now().plus_ms(backoff), e.to_string());
                app.store.write(move |sql| jobs::retry_later(sql, id, retry_at, &message)).await?;
            }
        }
    }
    Ok(count)
}

/// Runs jobs until `stop` resolves, polling every `interval`.
pub async fn run_until(app: &App, interval: Duration, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        let ran = match run_due(app).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "job round failed");
                0
            }
        };
        if ran as i64 == CLAIM_BATCH {
            continue;
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
