//! `sharemall bench`: drives a real server over HTTP on loopback with bounded counts, checks
//! the invariants afterwards, and prints one JSON object. Benchmarks measure; they never assert
//! timings — only invariants decide the exit code.

mod group_join;
pub(crate) mod harness;
mod mixed;
mod orders;
mod share_visit;

use clap::Args;

use crate::settings::Settings;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// orders-hot | orders-spread | share-visit | group-join | mixed
    pub workload: String,
    /// Print only the JSON object.
    #[arg(long)]
    pub json: bool,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Requests in the timed phase (orders, or share visits).
    #[arg(long, default_value_t = 40_000)]
    pub requests: u64,
    /// Commands per commit at most; 1 gives the one-commit-per-request baseline.
    #[arg(long)]
    pub batch_max: Option<usize>,
    /// SKUs for orders-spread (Zipf-distributed popularity).
    #[arg(long, default_value_t = 10_000)]
    pub skus: usize,
    /// A small, quick run that checks the invariants only (CI).
    #[arg(long)]
    pub smoke: bool,
}

pub async fn run(settings: Settings, mut args: BenchArgs) -> anyhow::Result<()> {
    if args.smoke {
        args.requests = args.requests.min(2_000);
        args.skus = args.skus.min(500);
    }
    args.concurrency = args.concurrency.clamp(1, 1_024);
    args.requests = args.requests.clamp(1, 1_000_000);
    let report = match args.workload.as_str() {
        "orders-hot" => orders::run(&settings, &args, orders::Shape::Hot).await?,
        "orders-spread" => orders::run(&settings, &args, orders::Shape::Spread).await?,
        "share-visit" => share_visit::run(&settings, &args).await?,
        "group-join" => group_join::run(&settings, &args).await?,
        "mixed" => mixed::run(&settings, &args).await?,
        other => anyhow::bail!("unknown workload '{other}' (orders-hot, orders-spread, share-visit, group-join, mixed)"),
    };
    let ok = report.get("invariants_ok").and_then(serde_json::Value::as_bool).unwrap_or(false);
    if args.json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    if !ok {
        anyhow::bail!("invariants violated");
    }
    Ok(())
}
