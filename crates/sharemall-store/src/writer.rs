//! The batching writer: the one place where state changes.
//!
//! Each state-changing use case is a command (a closure over [`Sql`]) sent to a writer thread.
//! The thread drains up to `batch_max` waiting commands, opens one transaction (`BEGIN IMMEDIATE`
//! on SQLite), runs each command inside its own `SAVEPOINT` so a failing command rolls back alone,
//! commits once, and only then answers every caller. One fsync is shared by the whole batch: this
//! is what lets a durable (`synchronous=FULL`) store take tens of thousands of orders a second.
//!
//! Place-order commands travel as data ([`Writer::place_order`]), not closures: each maximal run
//! of consecutive place-order commands in a batch is placed set-based
//! ([`crate::ops::orders_sqlite`]), sharing its reads and writes; the run still sees every
//! command before it and every command after it sees the run. If the run fails as a whole, it is
//! undone (by a savepoint, or by rolling back the transaction when the run opened it) and placed
//! command by command on the generic path.
//!
//! Share visits travel as data too ([`Writer::record_visit`]): a run of them is recorded
//! set-based ([`crate::ops::visits_batch`]) on either backend, with the same fallback. So do
//! group joins ([`Writer::join_group`]): on SQLite a run of them is decided set-based
//! ([`crate::ops::joins_batch`]); on PostgreSQL each runs on the generic path.
//!
//! A command that fails leaves nothing behind. A batch whose commit fails answers every caller
//! with an error: nothing was acknowledged, so nothing acknowledged is lost.

use sharemall_domain::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

use crate::model::OrderPlaced;
use crate::ops::joins_batch::{self, JoinCommand};
use crate::ops::order_batch::OrderCommand;
use crate::ops::shares::{self, Visit, VisitCommand};
use crate::ops::{groups, orders, orders_sqlite, visits_batch};
use crate::sql::{Backend, Sql};

type Reply = Box<dyn FnOnce(Result<(), Error>) + Send>;

/// A closure command: runs inside its savepoint, reports whether it succeeded, and leaves a
/// reply to send once the batch's fate is known.
type Closure = Box<dyn FnOnce(&mut dyn Sql) -> (bool, Reply) + Send>;

type OrderReply = oneshot::Sender<Result<OrderPlaced, Error>>;
type VisitReply = oneshot::Sender<Result<Visit, Error>>;
type JoinReply = oneshot::Sender<Result<OrderPlaced, Error>>;

/// What a writer runs.
pub(crate) enum Command {
    Run(Closure),
    /// `place_order` inside `idempotency::run`, as data so that a run of them is placed together.
    PlaceOrder(Box<OrderCommand>, OrderReply),
    /// `shares::record_visit`, as data so that a run of visits is recorded together.
    RecordVisit(Box<VisitCommand>, VisitReply),
    /// `groups::join_group`, as data so that a run of joins is decided together.
    JoinGroup(Box<JoinCommand>, JoinReply),
}

/// Counters the benchmark and `/metrics` read: commands per commit is the batching ratio.
#[derive(Debug, Default)]
pub struct WriterStats {
    pub commits: AtomicU64,
    pub commands: AtomicU64,
    pub failed_commits: AtomicU64,
    /// Wall time, in nanoseconds, the writer spent applying batches, committing them,
    /// answering their callers, and running its after-commit maintenance: where a writer-bound
    /// workload's time goes.
    pub apply_ns: AtomicU64,
    pub commit_ns: AtomicU64,
    pub reply_ns: AtomicU64,
    pub after_commit_ns: AtomicU64,
}

/// The writer's time so far, split by phase (see [`WriterStats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterTimes {
    pub apply_ns: u64,
    pub commit_ns: u64,
    pub reply_ns: u64,
    pub after_commit_ns: u64,
}

impl WriterStats {
    pub fn snapshot(&self) -> (u64, u64) {
        (self.commits.load(Ordering::Relaxed), self.commands.load(Ordering::Relaxed))
    }

    pub fn times(&self) -> WriterTimes {
        WriterTimes {
            apply_ns: self.apply_ns.load(Ordering::Relaxed),
            commit_ns: self.commit_ns.load(Ordering::Relaxed),
            reply_ns: self.reply_ns.load(Ordering::Relaxed),
            after_commit_ns: self.after_commit_ns.load(Ordering::Relaxed),
        }
    }
}

/// Adds the time since `started` to `counter`; returns now, to time the next phase from.
fn charge(counter: &AtomicU64, started: Instant) -> Instant {
    let now = Instant::now();
    let spent = u64::try_from(now.duration_since(started).as_nanos()).unwrap_or(u64::MAX);
    counter.fetch_add(spent, Ordering::Relaxed);
    now
}

/// A handle to one writer thread.
#[derive(Clone)]
pub struct Writer {
    sender: mpsc::Sender<Command>,
}

/// How many commands may wait for a writer before callers are told the store is overloaded.
const QUEUE_CAPACITY: usize = 16_384;

impl Writer {
    /// Starts a writer thread that owns `conn`.
    pub fn start<C: Sql + Send + 'static>(name: &str, conn: C, batch_max: usize, stats: Arc<WriterStats>) -> Result<Writer, Error> {
        Writer::start_with(name, conn, batch_max, stats, |_: &mut C| {})
    }

    /// As [`Writer::start`], running `after_commit` on the connection after every batch
    /// (maintenance that must not overlap a transaction, such as restarting SQLite's WAL).
    pub fn start_with<C, H>(name: &str, conn: C, batch_max: usize, stats: Arc<WriterStats>, after_commit: H) -> Result<Writer, Error>
    where
        C: Sql + Send + 'static,
        H: FnMut(&mut C) + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                crate::thread_priority::raise_current_thread();
                run(conn, receiver, batch_max.max(1), &stats, after_commit)
            })
            .map_err(|e| Error::internal(format!("cannot start writer thread: {e}")))?;
        Ok(Writer { sender })
    }

    /// Runs `command` in the next batch and returns its result after the batch commits.
    pub async fn write<T, F>(&self, command: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Sql) -> Result<T, Error> + Send + 'static,
    {
        let (reply_to, reply) = oneshot::channel::<Result<T, Error>>();
        let boxed: Closure = Box::new(move |sql| {
            let result = command(sql);
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |committed| {
                let _ = reply_to.send(committed.and(result));
            });
            (ok, reply)
        });
        self.send(Command::Run(boxed))?;
        reply.await.map_err(|_| Error::internal("writer dropped the command (transaction could not start)"))?
    }

    /// Places an order (as [`orders::place_order`]) in the next batch
    /// and returns its result after the batch commits.
    pub async fn place_order(&self, command: OrderCommand) -> Result<OrderPlaced, Error> {
        let (reply_to, reply) = oneshot::channel();
        self.send(Command::PlaceOrder(Box::new(command), reply_to))?;
        reply.await.map_err(|_| Error::internal("writer dropped the command (transaction could not start)"))?
    }

    /// Records a share visit (as [`shares::record_visit`]) in the next batch and returns its
    /// result after the batch commits.
    pub async fn record_visit(&self, command: VisitCommand) -> Result<Visit, Error> {
        let (reply_to, reply) = oneshot::channel();
        self.send(Command::RecordVisit(Box::new(command), reply_to))?;
        reply.await.map_err(|_| Error::internal("writer dropped the command (transaction could not start)"))?
    }

    /// Joins a group (as [`groups::join_group`]) in the next batch and returns its result after
    /// the batch commits.
    pub async fn join_group(&self, command: JoinCommand) -> Result<OrderPlaced, Error> {
        let (reply_to, reply) = oneshot::channel();
        self.send(Command::JoinGroup(Box::new(command), reply_to))?;
        reply.await.map_err(|_| Error::internal("writer dropped the command (transaction could not start)"))?
    }

    fn send(&self, command: Command) -> Result<(), Error> {
        self.sender.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Error::new(sharemall_domain::ErrorCode::Overloaded, "the store is busy; try again"),
            mpsc::error::TrySendError::Closed(_) => Error::internal("writer stopped"),
        })
    }
}

fn run<C: Sql, H: FnMut(&mut C)>(
    mut conn: C,
    mut receiver: mpsc::Receiver<Command>,
    batch_max: usize,
    stats: &WriterStats,
    mut after_commit: H,
) {
    let begin = begin_statement(conn.backend());
    let mut batch = Vec::with_capacity(batch_max);
    while let Some(first) = receiver.blocking_recv() {
        batch.push(first);
        while batch.len() < batch_max {
            match receiver.try_recv() {
                Ok(command) => batch.push(command),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.batch(begin) {
            // Dropping the commands answers their callers with an error: nothing ran.
            tracing::error!(error = %e, "writer could not begin a transaction");
            batch.clear();
            std::thread::sleep(std::time::Duration::from_millis(50));
            continue;
        }
        let count = batch.len() as u64;
        let started = Instant::now();
        let outcome = apply_batch(&mut conn, &mut batch);
        let applied = charge(&stats.apply_ns, started);
        match outcome {
            Ok(replies) => {
                let committed = conn.batch("COMMIT");
                let committed_at = charge(&stats.commit_ns, applied);
                if let Err(e) = &committed {
                    tracing::error!(error = %e, "commit failed; the whole batch is refused");
                    let _ = conn.batch("ROLLBACK");
                    stats.failed_commits.fetch_add(1, Ordering::Relaxed);
                } else {
                    stats.commits.fetch_add(1, Ordering::Relaxed);
                    stats.commands.fetch_add(count, Ordering::Relaxed);
                }
                for reply in replies {
                    reply(committed.clone());
                }
                let replied_at = charge(&stats.reply_ns, committed_at);
                after_commit(&mut conn);
                charge(&stats.after_commit_ns, replied_at);
            }
            Err((e, replies)) => {
                tracing::error!(error = %e, "savepoint handling failed; the whole batch is refused");
                let _ = conn.batch("ROLLBACK");
                stats.failed_commits.fetch_add(1, Ordering::Relaxed);
                for reply in replies {
                    reply(Err(e.clone()));
                }
            }
        }
    }
}

type Replies = Vec<Reply>;

/// How a batch's transaction starts: on SQLite it takes the write lock at once.
fn begin_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}

fn apply_batch<C: Sql>(conn: &mut C, batch: &mut Vec<Command>) -> Result<Replies, (Error, Replies)> {
    let mut replies = Vec::with_capacity(batch.len());
    let mut commands = batch.drain(..).peekable();
    while let Some(command) = commands.next() {
        // Nothing applied yet: a set-based run can undo itself by rolling back the transaction.
        let scope = if replies.is_empty() { RunScope::OpensTransaction } else { RunScope::AfterOthers };
        let applied = match command {
            Command::Run(closure) => in_savepoint(conn, closure, &mut replies),
            Command::PlaceOrder(first, reply) => {
                let mut run = vec![(*first, reply)];
                while let Some(Command::PlaceOrder(next, reply)) = commands.next_if(|c| matches!(c, Command::PlaceOrder(..))) {
                    run.push((*next, reply));
                }
                set_based_run(conn, scope, run, &mut replies, orders_sqlite::place_run, place_one)
            }
            Command::RecordVisit(first, reply) => {
                let mut run = vec![(*first, reply)];
                while let Some(Command::RecordVisit(next, reply)) = commands.next_if(|c| matches!(c, Command::RecordVisit(..))) {
                    run.push((*next, reply));
                }
                set_based_run(conn, scope, run, &mut replies, visits_batch::record_run, record_one)
            }
            Command::JoinGroup(first, reply) => {
                let mut run = vec![(*first, reply)];
                while let Some(Command::JoinGroup(next, reply)) = commands.next_if(|c| matches!(c, Command::JoinGroup(..))) {
                    run.push((*next, reply));
                }
                set_based_run(conn, scope, run, &mut replies, joins_batch::join_run, join_one)
            }
        };
        if let Err(e) = applied {
            return Err((e, replies));
        }
    }
    Ok(replies)
}

/// Runs one closure inside its own savepoint. `Err` only when the savepoint itself fails.
fn in_savepoint<C: Sql>(conn: &mut C, closure: Closure, replies: &mut Replies) -> Result<(), Error> {
    // `execute`, not `batch`: the savepoint statements are prepared once and reused.
    conn.execute("SAVEPOINT cmd", &[])?;
    let (ok, reply) = closure(conn);
    replies.push(reply);
    if !ok {
        conn.execute("ROLLBACK TO cmd", &[])?;
    }
    conn.execute("RELEASE cmd", &[])?;
    Ok(())
}

/// The reply to a data command: its result once the batch's commit is known.
fn reply<T: Send + 'static>(reply_to: oneshot::Sender<Result<T, Error>>, result: Result<T, Error>) -> Reply {
    Box::new(move |committed| {
        let _ = reply_to.send(committed.and(result));
    })
}

/// Applies a whole run: each command's result, or `Err` when the run must be rolled back.
type SetBased<Cmd, T> = fn(&mut dyn Sql, &[Cmd]) -> Result<Vec<Result<T, Error>>, Error>;

/// Where a set-based run stands in its batch's transaction, which decides how it is undone.
#[derive(Clone, Copy)]
enum RunScope {
    /// The run is the first thing in the transaction: on failure the whole transaction is rolled
    /// back and begun again. No savepoint is opened: under one, SQLite copies each page the run
    /// changes into a sub-journal before its first change, so that it can roll back to it
    /// (group-join, one alternation: 9.0–9.3k joins/s, 8.6–8.7k with it).
    OpensTransaction,
    /// Commands before it in the transaction must survive its failure: it runs in a savepoint.
    AfterOthers,
}

/// Applies a run of consecutive data commands set-based; if that fails, undoes the run (see
/// [`RunScope`]) and applies each command on the generic path in its own savepoint, so
/// correctness never depends on the fast path.
fn set_based_run<C, Cmd, T>(
    conn: &mut C,
    scope: RunScope,
    run: Vec<(Cmd, oneshot::Sender<Result<T, Error>>)>,
    replies: &mut Replies,
    set_based: SetBased<Cmd, T>,
    apply_one: fn(&mut dyn Sql, Cmd) -> Result<T, Error>,
) -> Result<(), Error>
where
    C: Sql,
    Cmd: Send + 'static,
    T: Send + 'static,
{
    let (commands, replies_to): (Vec<Cmd>, Vec<_>) = run.into_iter().unzip();
    if let RunScope::AfterOthers = scope {
        conn.execute("SAVEPOINT run", &[])?;
    }
    match set_based(conn, &commands) {
        Ok(results) => {
            if let RunScope::AfterOthers = scope {
                conn.execute("RELEASE run", &[])?;
            }
            replies.extend(replies_to.into_iter().zip(results).map(|(reply_to, result)| reply(reply_to, result)));
            return Ok(());
        }
        Err(e) => {
            tracing::warn!(error = %e, commands = commands.len(), "set-based run failed; applying its commands one by one");
            match scope {
                RunScope::OpensTransaction => {
                    conn.batch("ROLLBACK")?;
                    conn.batch(begin_statement(conn.backend()))?;
                }
                RunScope::AfterOthers => {
                    conn.execute("ROLLBACK TO run", &[])?;
                    conn.execute("RELEASE run", &[])?;
                }
            }
        }
    }
    one_by_one(conn, commands.into_iter().zip(replies_to).collect(), replies, apply_one)
}

/// Applies each data command on the generic path, each in its own savepoint.
fn one_by_one<C, Cmd, T>(
    conn: &mut C,
    run: Vec<(Cmd, oneshot::Sender<Result<T, Error>>)>,
    replies: &mut Replies,
    apply_one: fn(&mut dyn Sql, Cmd) -> Result<T, Error>,
) -> Result<(), Error>
where
    C: Sql,
    Cmd: Send + 'static,
    T: Send + 'static,
{
    for (command, reply_to) in run {
        let closure: Closure = Box::new(move |sql| {
            let result = apply_one(sql, command);
            (result.is_ok(), reply(reply_to, result))
        });
        in_savepoint(conn, closure, replies)?;
    }
    Ok(())
}

fn place_one(sql: &mut dyn Sql, command: OrderCommand) -> Result<OrderPlaced, Error> {
    orders::place_order(sql, command.now, &command.cmd, command.key.as_ref())
}

fn record_one(sql: &mut dyn Sql, command: VisitCommand) -> Result<Visit, Error> {
    shares::record_visit(sql, &command)
}

fn join_one(sql: &mut dyn Sql, command: JoinCommand) -> Result<OrderPlaced, Error> {
    groups::join_group(sql, command.now, command.group, &command.order, command.key.as_ref())
}
