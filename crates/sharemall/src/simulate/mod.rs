//! `sharemall simulate`: the deterministic simulation of money (issue 5). Each seed builds a
//! fresh world and runs a stream of steps drawn from the seed: orders, payments with duplicate,
//! replayed, stale and late callbacks, shipping and receipt, operator refunds, after-sales
//! cases, withdrawals with failing and busy payees, and clock jumps that let the jobs settle
//! commission, complete orders, cancel unpaid ones and pay refunds and payouts. After every step
//! that wrote anything (all but those that found nothing to act on) every invariant
//! `sharemall check` knows must hold. A failing seed is printed with the command
//! that replays it, step by step.
//!
//! Determinism: a seed decides every choice, and steps pick among orders by the order they were
//! placed in, so the same seed walks the same path; the ids the store generates differ from run
//! to run but never steer a choice.

mod steps;
mod world;

use clap::Args;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;
use sharemall_store::ops::check;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use steps::{Op, Outcome};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// How many seeds to run, from `--first-seed` on.
    #[arg(long, default_value_t = 100)]
    pub seeds: u64,
    /// Steps per seed.
    #[arg(long, default_value_t = 500)]
    pub steps: u32,
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    /// Replay one seed, printing every step.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seeds run at once (default: the machine's cores).
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Print only the JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// What one seed did.
#[derive(Debug, Default, Serialize)]
struct SeedReport {
    steps: u32,
    /// Steps after which every invariant was checked: all but those that found nothing to do.
    checked_steps: u64,
    checks: u64,
    /// Per step kind: [done, refused, idle].
    ops: BTreeMap<&'static str, [u64; 3]>,
    orders: usize,
    ledger_transfers: i64,
}

/// Runs one seed. Returns its report, or the failure with the steps that led to it.
async fn run_seed(seed: u64, steps: u32, verbose: bool) -> Result<SeedReport, String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut world = world::build(&mut rng).await.map_err(|e| format!("seed {seed}: building the world: {e:#}"))?;
    let mut report = SeedReport::default();
    let mut log: Vec<String> = Vec::new();
    // The last step drains the clock: 40 days on, every job run, every window closed.
    for step in 0..=steps {
        let op = if step == steps { Op::ClockJump } else { Op::pick(&mut rng) };
        let result = if step == steps {
            world.clock.advance_ms(40 * sharemall_domain::time::DAY_MS);
            steps::run_jobs(&world).await.map(|ran| (Outcome::Done, format!("drain: clock +40 d, {ran} jobs")))
        } else {
            steps::run(&mut world, &mut rng, op).await
        };
        let line = match &result {
            Ok((outcome, text)) => format!("{step:>4} {:<20} {outcome:?} {text}", op.name()),
            Err(e) => format!("{step:>4} {:<20} FAILED {e:#}", op.name()),
        };
        if verbose {
            println!("{line}");
        }
        log.push(line);
        let (outcome, _) = result.map_err(|e| failure(seed, steps, step, &format!("{e:#}"), &log))?;
        let slot = match outcome {
            Outcome::Done => 0,
            Outcome::Refused(_) => 1,
            Outcome::Idle => 2,
        };
        report.ops.entry(op.name()).or_default()[slot] += 1;
        // A step that found nothing to act on only read: there is nothing new to check.
        if outcome == Outcome::Idle {
            continue;
        }
        let results = world.app.store.read(check::check_all).await.map_err(|e| failure(seed, steps, step, &e.to_string(), &log))?;
        report.checks += results.len() as u64;
        report.checked_steps += 1;
        let broken: Vec<String> =
            results.iter().filter(|r| !r.violations.is_empty()).map(|r| format!("{}: {:?}", r.name, r.violations)).collect();
        if !broken.is_empty() {
            return Err(failure(seed, steps, step, &format!("invariants violated:\n  {}", broken.join("\n  ")), &log));
        }
    }
    report.steps = steps;
    report.orders = world.orders.len();
    report.ledger_transfers =
        world.app.store.read(|sql| sql.query_i64("SELECT COUNT(*) FROM ledger_transfers", sharemall_store::params![])).await.unwrap_or(-1);
    Ok(report)
}

/// The failure report: what broke, the steps that led there, and the command that replays
/// the seed (with the same step count, so the same stream of steps).
fn failure(seed: u64, steps: u32, step: u32, what: &str, log: &[String]) -> String {
    let tail: Vec<&str> = log.iter().rev().take(15).rev().map(String::as_str).collect();
    format!(
        "seed {seed} failed at step {step}: {what}\nlast steps:\n{}\nreplay: sharemall simulate --seed {seed} --steps {steps}",
        tail.join("\n")
    )
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    seeds: u64,
    first_seed: u64,
    steps_per_seed: u32,
    steps: u64,
    checked_steps: u64,
    invariant_checks: u64,
    orders: u64,
    ledger_transfers: i64,
    elapsed_s: f64,
    steps_per_s: f64,
    ops: BTreeMap<&'static str, [u64; 3]>,
    failed_seed: Option<u64>,
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    if let Some(seed) = args.seed {
        return match run_seed(seed, args.steps, !args.json).await {
            Ok(report) => {
                println!("{}", serde_json::to_string(&report)?);
                Ok(())
            }
            Err(failure) => anyhow::bail!("{failure}"),
        };
    }
    let seeds = args.seeds.clamp(1, 1_000_000);
    let parallel = args.parallel.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)).clamp(1, 64);
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..parallel {
        let (next, steps, first) = (Arc::clone(&next), args.steps, args.first_seed);
        workers.push(tokio::spawn(async move {
            let mut reports = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= seeds {
                    return Ok(reports);
                }
                let seed = first + i;
                match run_seed(seed, steps, false).await {
                    Ok(report) => reports.push(report),
                    Err(failure) => {
                        // Stop the other workers after their current seed.
                        next.store(seeds, Ordering::SeqCst);
                        return Err((seed, failure));
                    }
                }
            }
        }));
    }
    let mut summary = Summary { seeds, first_seed: args.first_seed, steps_per_seed: args.steps, ..Summary::default() };
    let mut failed = None;
    for worker in workers {
        match worker.await? {
            Ok(reports) => {
                for r in reports {
                    summary.steps += u64::from(r.steps);
                    summary.invariant_checks += r.checks;
                    summary.checked_steps += r.checked_steps;
                    summary.orders += r.orders as u64;
                    summary.ledger_transfers += r.ledger_transfers;
                    for (op, counts) in r.ops {
                        let total = summary.ops.entry(op).or_default();
                        for (t, c) in total.iter_mut().zip(counts) {
                            *t += c;
                        }
                    }
                }
            }
            Err((seed, failure)) => {
                eprintln!("{failure}");
                failed = failed.map_or(Some(seed), |s: u64| Some(s.min(seed)));
            }
        }
    }
    summary.elapsed_s = started.elapsed().as_secs_f64();
    summary.steps_per_s = summary.steps as f64 / summary.elapsed_s.max(1e-9);
    summary.failed_seed = failed;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    if let Some(seed) = failed {
        anyhow::bail!("seed {seed} failed (replay: sharemall simulate --seed {seed} --steps {})", args.steps);
    }
    Ok(())
}
