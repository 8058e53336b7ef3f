//! The deterministic simulation from the outside: a few seeds run clean with every invariant
//! checked after every step, and a seed replayed walks exactly the same steps to the same end.
//! CI runs the full 1,000 seeds × 500 steps on the release build.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::process::Command;

fn simulate(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_sharemall"))
        .arg("simulate")
        .args(args)
        .args(["--json", "--config", "/nonexistent/sharemall.toml"])
        .env("RUST_LOG", "error")
        .output()
        .expect("run sharemall simulate");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "simulate {args:?} failed:\n{}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().expect("a JSON line")).expect("JSON summary")
}

#[test]
fn seeds_run_clean_with_every_invariant_after_every_step() {
    let summary = simulate(&["--seeds", "4", "--steps", "150", "--first-seed", "9001"]);
    assert_eq!(summary["failed_seed"], Value::Null);
    assert_eq!(summary["steps"], 600);
    let ops = summary["ops"].as_object().expect("ops");
    // The streams reach the money paths, not only the start of an order's life.
    for op in ["pay", "ship", "receive", "clock_jump", "return_request", "withdraw"] {
        let done = ops.get(op).and_then(|c| c[0].as_u64()).unwrap_or(0);
        assert!(done > 0, "no {op} step succeeded: {summary}");
    }
    // Every step that acted, and each seed's final drain, ran the same full set of checks.
    let ops_total: u64 = ops.values().map(|c| c[0].as_u64().unwrap_or(0) + c[1].as_u64().unwrap_or(0)).sum();
    let (checks, checked_steps) =
        (summary["invariant_checks"].as_u64().expect("checks"), summary["checked_steps"].as_u64().expect("steps"));
    assert_eq!(checked_steps, ops_total, "one check after each step that acted");
    assert_eq!(checks % checked_steps, 0, "{checks} checks over {checked_steps} steps");
    assert!(checks / checked_steps >= 30, "{} checks per step", checks / checked_steps);
}

#[test]
fn a_seed_replays_the_same_steps() {
    let first = simulate(&["--seed", "424242", "--steps", "200"]);
    let again = simulate(&["--seed", "424242", "--steps", "200"]);
    assert_eq!(first["ops"], again["ops"]);
    assert_eq!((first["orders"].clone(), first["ledger_transfers"].clone()), (again["orders"].clone(), again["ledger_transfers"].clone()));
    assert!(first["ledger_transfers"].as_i64().expect("transfers") > 0);
}
