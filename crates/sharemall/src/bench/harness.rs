//! What every workload needs: a server on a temporary database, bench accounts with bearer
//! tokens (created directly in the store: password hashing is not what is measured), a bounded
//! HTTP load loop with latency percentiles, and the machine's own baselines (fsync latency, a
//! trivial `/healthz` rate) so every figure can be read as a ratio.

use sharemall_app::App;
use sharemall_app::clock::SystemClock;
use sharemall_app::tokens::{hash_secret, new_secret, new_token};
use sharemall_domain::UserId;
use sharemall_domain::account::{LoginId, Role};
use sharemall_domain::time::DAY_MS;
use sharemall_store::model::SessionKind;
use sharemall_store::ops::accounts::{self, NewUser};
use sharemall_store::sqlite::{WalWrites, wal_writes};
use sharemall_store::writer::WriterTimes;
use sharemall_store::{Store, StoreConfig};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::settings::Settings;

pub struct BenchServer {
    pub app: Arc<App>,
    pub base: String,
    pub client: LoadClient,
    pub db_url: String,
    pub backend: &'static str,
    /// The PostgreSQL database and the schema created for this run, dropped by `finish`.
    pg_schema: Option<(String, String)>,
    _dir: TempDir,
}

impl BenchServer {
    /// Removes what the run created outside its temp directory (a PostgreSQL schema).
    pub async fn finish(self) -> anyhow::Result<()> {
        if let Some((admin_url, schema)) = self.pg_schema {
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let mut client = postgres_client(&admin_url)?;
                sharemall_store::Sql::batch(&mut client, &format!("DROP SCHEMA {schema} CASCADE"))?;
                Ok(())
            })
            .await??;
        }
        Ok(())
    }
}

/// A directory removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn temp_dir() -> anyhow::Result<TempDir> {
    temp_dir_in(&std::env::temp_dir())
}

/// A fresh directory under `parent`.
pub fn temp_dir_in(parent: &std::path::Path) -> anyhow::Result<TempDir> {
    if !parent.is_dir() {
        anyhow::bail!("{} is not a directory", parent.display());
    }
    let dir = parent.join(format!("sharemall-{}", sharemall_app::tokens::new_token()));
    std::fs::create_dir_all(&dir)?;
    Ok(TempDir(dir))
}

/// Starts a server on a fresh database: a temp SQLite file, or a fresh schema in the given
/// PostgreSQL database.
pub async fn start(settings: &Settings, batch_max: usize) -> anyhow::Result<BenchServer> {
    start_with_clock(settings, batch_max, Arc::new(SystemClock)).await
}

/// As [`start`], on `clock` (a workload that moves time on, past return windows).
pub async fn start_with_clock(
    settings: &Settings,
    batch_max: usize,
    clock: Arc<dyn sharemall_app::clock::Clock>,
) -> anyhow::Result<BenchServer> {
    let dir = temp_dir()?;
    let (db_url, pg_schema) = if settings.database.url.starts_with("postgres") {
        let (url, schema) = fresh_pg_schema(&settings.database.url).await?;
        (url, Some((settings.database.url.clone(), schema)))
    } else {
        (format!("sqlite://{}", dir.0.join("bench.db").display()), None)
    };
    let config = StoreConfig { url: db_url.clone(), readers: settings.database.readers, batch_max };
    let now = crate::run::wall_now().millis();
    let store = tokio::task::spawn_blocking(move || Store::open(&config, now)).await??;
    let backend = store.backend().as_str();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut app_config = settings.app_config()?;
    app_config.public_url = base.clone();
    let app = App::new(store, clock, app_config)?;
    let router = sharemall_web::router(sharemall_web::AppState::new(Arc::clone(&app)));
    tokio::spawn(sharemall_web::serve(listener, router, std::future::pending()));
    let client = load_client(&base);
    Ok(BenchServer { app, base, client, db_url, backend, pg_schema, _dir: dir })
}

async fn fresh_pg_schema(url: &str) -> anyhow::Result<(String, String)> {
    let schema = format!("bench_{}", sharemall_app::tokens::new_token());
    let admin_url = url.to_string();
    let create = format!("CREATE SCHEMA {schema}");
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut client = postgres_client(&admin_url)?;
        sharemall_store::Sql::batch(&mut client, &create)?;
        Ok(())
    })
    .await??;
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok((format!("{url}{separator}options=-csearch_path%3D{schema}"), schema))
}

fn postgres_client(url: &str) -> anyhow::Result<sharemall_store::postgres::PgConn> {
    Ok(sharemall_store::postgres::PgConn::connect(url)?)
}

/// Creates `count` customers with bearer tokens.
pub async fn customers(app: &App, count: usize) -> anyhow::Result<Vec<String>> {
    Ok(customer_accounts(app, count).await?.into_iter().map(|(token, _)| token).collect())
}

/// Creates `count` customers; returns each one's bearer token and id.
pub async fn customer_accounts(app: &App, count: usize) -> anyhow::Result<Vec<(String, UserId)>> {
    accounts_with_role(app, count, Role::Customer).await
}

/// Creates `count` users with `role`; returns each one's bearer token and id.
pub async fn accounts_with_role(app: &App, count: usize, role: Role) -> anyhow::Result<Vec<(String, UserId)>> {
    let mut accounts = Vec::with_capacity(count);
    for i in 0..count {
        let token = new_secret();
        let token_hash = hash_secret(&token);
        let now = app.now();
        let login = LoginId::parse(&format!("bench{i}-{}@sharemall.bench", new_token()))?;
        let user = app
            .store
            .write(move |sql| {
                let user = accounts::create_user(
                    sql,
                    now,
                    NewUser { login, password_hash: "bench-no-password".into(), display_name: "压测用户".into(), roles: vec![role] },
                )?;
                accounts::create_session(sql, &token_hash, user, SessionKind::Bearer, now, now.plus_ms(DAY_MS))?;
                Ok(user)
            })
            .await?;
        accounts.push((token, user));
    }
    Ok(accounts)
}

/// What a load phase saw.
#[derive(Debug, Default)]
pub struct LoadResult {
    pub ok: u64,
    /// Answered with a 4xx: refused by the rules (out of stock…), not failed.
    pub refused: u64,
    pub server_errors: u64,
    pub transport_errors: u64,
    pub elapsed: Duration,
    pub latencies_us: Vec<u64>,
}

impl LoadResult {
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[index.min(sorted.len() - 1)] as f64 / 1_000.0
    }
}

/// The load generator's client: one plain HTTP/1.1 keep-alive connection per worker, so that
/// as little of the machine as possible goes to generating load (a pooled client's checkout and
/// reqwest's layers cost a measurable share of a 2-core machine).
#[derive(Debug, Clone)]
pub struct LoadClient {
    /// `127.0.0.1:port`
    addr: String,
}

pub type LoadRequest = hyper::Request<http_body_util::Full<bytes::Bytes>>;
type Sender = hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>;

impl LoadClient {
    async fn connect(&self) -> Option<Sender> {
        let stream = tokio::net::TcpStream::connect(&self.addr).await.ok()?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.ok()?;
        tokio::spawn(connection);
        Some(sender)
    }
}

fn load_client(base: &str) -> LoadClient {
    LoadClient { addr: base.trim_start_matches("http://").to_string() }
}

/// A request with an optional JSON body and extra headers.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> LoadRequest {
    let without_scheme = url.trim_start_matches("http://");
    let (host, path) = without_scheme.split_once('/').map_or((without_scheme, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut builder = hyper::Request::builder().method(method).uri(path).header("host", host);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let body = http_body_util::Full::new(bytes::Bytes::from(body.unwrap_or_default()));
    builder.body(body).unwrap_or_else(|_| hyper::Request::new(http_body_util::Full::new(bytes::Bytes::new())))
}

/// Sends `total` requests from `concurrency` workers; `make(i)` builds request `i`.
///
/// Logs when the phase starts and ends, so a profiler can be attached to the timed phase
/// alone and not to the setup before it.
pub async fn drive<F>(client: &LoadClient, concurrency: usize, total: u64, make: F) -> LoadResult
where
    F: Fn(u64) -> LoadRequest + Send + Sync + 'static,
{
    tracing::info!(requests = total, concurrency, "load phase starts");
    let next = Arc::new(AtomicU64::new(0));
    let make = Arc::new(make);
    let started = tokio::time::Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (next, make, client) = (Arc::clone(&next), Arc::clone(&make), client.clone());
        workers.push(tokio::spawn(async move {
            let mut result = LoadResult::default();
            let mut sender = client.connect().await;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let sent = tokio::time::Instant::now();
                if sender.as_ref().is_none_or(|s| s.is_closed()) {
                    sender = client.connect().await;
                }
                let status = match sender.as_mut() {
                    Some(s) => match tokio::time::timeout(Duration::from_secs(30), s.send_request(make(i))).await {
                        Ok(Ok(r)) => {
                            let status = r.status().as_u16();
                            let _ = http_body_util::BodyExt::collect(r.into_body()).await;
                            Ok(status)
                        }
                        _ => Err(()),
                    },
                    None => Err(()),
                };
                result.latencies_us.push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                match status {
                    // A share link answers 303 See Other: accepted.
                    Ok(200..=399) => result.ok += 1,
                    Ok(400..=499) => result.refused += 1,
                    Ok(_) => result.server_errors += 1,
                    Err(_) => result.transport_errors += 1,
                }
            }
            result
        }));
    }
    let mut total_result = LoadResult::default();
    for worker in workers {
        if let Ok(r) = worker.await {
            total_result.ok += r.ok;
            total_result.refused += r.refused;
            total_result.server_errors += r.server_errors;
            total_result.transport_errors += r.transport_errors;
            total_result.latencies_us.extend(r.latencies_us);
        }
    }
    total_result.elapsed = started.elapsed();
    tracing::info!(requests = total, seconds = total_result.elapsed.as_secs_f64(), "load phase ends");
    total_result
}

/// Median latency of a 4 KiB write + fsync in the temp directory: the floor under any durable
/// commit on this machine.
pub fn fsync_median_ms() -> anyhow::Result<f64> {
    let dir = temp_dir()?;
    let mut file = std::fs::File::create(dir.0.join("probe"))?;
    let block = [7u8; 4096];
    let mut samples = Vec::with_capacity(100);
    for _ in 0..100 {
        let started = tokio::time::Instant::now();
        file.write_all(&block)?;
        file.sync_all()?;
        samples.push(started.elapsed().as_secs_f64() * 1_000.0);
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

/// This process's resident memory, from /proc.
pub fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1_024.0)
}

/// CPU time, in milliseconds, used so far by this process's threads whose name starts with
/// `prefix` ("" for every thread), from Linux's per-thread scheduler statistics; `None` where
/// /proc has none. On a shared machine throughput moves with the neighbours' load, while CPU
/// spent per command moves far less: a thread waiting for a core is not charged for it.
pub fn threads_cpu_ms(prefix: &str) -> Option<f64> {
    let mut total_ns: u64 = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let path = task.path();
        let named = std::fs::read_to_string(path.join("comm")).is_ok_and(|name| name.trim_end().starts_with(prefix));
        if !named {
            continue;
        }
        // The first field of schedstat is the time spent on a CPU, in nanoseconds.
        let ns = std::fs::read_to_string(path.join("schedstat")).ok().and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
        total_ns = total_ns.saturating_add(ns?);
    }
    Some(total_ns as f64 / 1e6)
}

/// Where a timed phase's time went, per command: CPU spent by the writer threads and by the
/// whole process, and the generic writer's wall time applying, committing and maintaining.
pub struct PhaseClock {
    writer_ms: Option<f64>,
    process_ms: Option<f64>,
    writer_times: WriterTimes,
    wal_writes: WalWrites,
}

/// Threads that write: SQLite's and PostgreSQL's generic writer, and PostgreSQL's order shards.
const WRITER_THREADS: [&str; 2] = ["store-writer", "store-orders"];

fn writer_cpu_ms() -> Option<f64> {
    WRITER_THREADS.iter().map(|prefix| threads_cpu_ms(prefix)).sum()
}

impl PhaseClock {
    pub fn start(store: &Store) -> PhaseClock {
        PhaseClock {
            writer_ms: writer_cpu_ms(),
            process_ms: threads_cpu_ms(""),
            writer_times: store.writer_times(),
            wal_writes: wal_writes(),
        }
    }

    /// Microseconds per command for `commands` commands since `start`: `writer_cpu` and
    /// `process_cpu` (the load generator runs in this process, so that figure includes the
    /// client), the writer's wall time split into `apply`, `commit`, `reply` and `after_commit`,
    /// and the WAL writes SQLite asked for and the ones the file received (SQLite only).
    pub fn per_command(&self, store: &Store, commands: u64) -> serde_json::Value {
        let per = |spent_ms: f64| (commands > 0).then(|| (spent_ms * 1_000.0 / commands as f64 * 10.0).round() / 10.0);
        let cpu = |before: Option<f64>, after: Option<f64>| per(after? - before?);
        let (before, after) = (self.writer_times, store.writer_times());
        let wall = |before: u64, after: u64| per(after.saturating_sub(before) as f64 / 1e6);
        let wal = wal_writes();
        let count =
            |before: u64, after: u64| (commands > 0).then(|| (after.saturating_sub(before) as f64 / commands as f64 * 10.0).round() / 10.0);
        serde_json::json!({
            "writer_cpu": cpu(self.writer_ms, writer_cpu_ms()),
            "process_cpu": cpu(self.process_ms, threads_cpu_ms("")),
            "apply": wall(before.apply_ns, after.apply_ns),
            "commit": wall(before.commit_ns, after.commit_ns),
            "reply": wall(before.reply_ns, after.reply_ns),
            "after_commit": wall(before.after_commit_ns, after.after_commit_ns),
            "wal_writes_requested": count(self.wal_writes.requested, wal.requested),
            "wal_writes_issued": count(self.wal_writes.issued, wal.issued),
        })
    }
}

/// Time from starting `sharemall serve` on the existing database to a healthy `/healthz`.
pub async fn startup_ms(db_url: &str) -> anyhow::Result<f64> {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    let started = tokio::time::Instant::now();
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database-url", db_url])
        .env("SHAREMALL__SERVER__RUN_JOBS", "false")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    // Not `reqwest::Client::new()`: with the app's TLS backend that panics unless a rustls
    // provider is installed (see `sharemall_wechatpay::http_client_builder`).
    let client = sharemall_wechatpay::http_client_builder()?.build()?;
    let url = format!("http://127.0.0.1:{port}/healthz");
    let mut ready = None;
    while started.elapsed() < Duration::from_secs(20) {
        if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
            ready = Some(started.elapsed().as_secs_f64() * 1_000.0);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = child.kill().await;
    ready.ok_or_else(|| anyhow::anyhow!("server did not become ready"))
}

/// The machine's own yardsticks from the same run: fsync latency (the floor under any durable
/// commit) and the rate of a trivial request through the same stack (`/healthz`).
pub struct Baselines {
    pub fsync_ms: f64,
    pub healthz: LoadResult,
}

pub async fn baselines(server: &BenchServer, concurrency: usize, requests: u64) -> anyhow::Result<Baselines> {
    let fsync_ms = tokio::task::spawn_blocking(fsync_median_ms).await??;
    let health_url = format!("{}/healthz", server.base);
    let healthz = drive(&server.client, concurrency, requests.min(20_000), move |_| request("GET", &health_url, &[], None)).await;
    Ok(Baselines { fsync_ms, healthz })
}

/// Commands per commit, to one decimal: the batching factor of a phase.
pub fn per_commit(commands: u64, commits: u64) -> f64 {
    if commits == 0 { 0.0 } else { (commands as f64 / commits as f64 * 10.0).round() / 10.0 }
}

/// A phase's counts, rate and latencies as JSON.
pub fn phase_json(result: &LoadResult) -> serde_json::Value {
    serde_json::json!({
        "requests": result.ok + result.refused + result.server_errors + result.transport_errors,
        "ok": result.ok,
        "refused": result.refused,
        "server_errors": result.server_errors,
        "transport_errors": result.transport_errors,
        "seconds": result.elapsed.as_secs_f64(),
        "throughput_per_s": result.throughput().round(),
        "p50_ms": result.percentile_ms(0.50),
        "p99_ms": result.percentile_ms(0.99),
    })
}

/// A workload's report with its timed phase's figures at the top level, where TESTING.md's
/// fields (`requests`, `ok`, `refused`, `throughput_per_s`, `p50_ms`, `p99_ms`) are read.
pub fn with_timed_phase(mut report: serde_json::Value, timed: &LoadResult) -> serde_json::Value {
    if let (Some(report), serde_json::Value::Object(phase)) = (report.as_object_mut(), phase_json(timed)) {
        report.extend(phase);
    }
    report
}
