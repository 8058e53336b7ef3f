//! TESTING T13 through the CLI: `sharemall policy set --file` refuses every forbidden policy
//! file with the rule it breaks and a non-zero exit, changing nothing; a valid file is saved
//! and shown back; `sharemall compliance audit` reports it and exits 0 on a clean database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn sharemall(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sharemall"))
        .args(args)
        .args(["--database-url", db, "--config", "/nonexistent/sharemall.toml"])
        .env("RUST_LOG", "error")
        .output()
        .expect("run sharemall")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

#[test]
fn policy_files_pass_the_guard_or_change_nothing() {
    let dir = std::env::temp_dir().join(format!("sharemall-policy-cli-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("cli.db").display());
    let default = sharemall(&db, &["policy", "show"]);
    assert!(default.status.success(), "{}", text(&default.stderr));
    assert!(text(&default.stdout).contains("depth = 1"));

    let forbidden = [
        ("depth3.toml", "[commission]\ndepth = 3\n", "max_depth"),
        ("fee.toml", "[commission]\nshop_entry_fee_fen = 9900\n", "no_entry_fee"),
        ("recruit.toml", "[commission]\nrecruit_reward_fen = 500\n", "no_recruitment_reward"),
        ("team.toml", "[commission]\nteam_bonus_bps = 200\n", "no_team_bonus"),
        ("cap.toml", "[commission]\nrate_bps = 3500\n", "commission_cap"),
        ("early.toml", "[commission]\nsettle_buffer_days = -2\n", "no_early_withdrawal"),
    ];
    for (name, body, rule) in forbidden {
        let out = sharemall(&db, &["policy", "set", "--file", &write(&dir, name, body)]);
        assert!(!out.status.success(), "{name} must be refused");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("policy_forbidden") && stderr.contains(&format!("rule {rule}")), "{name}: {stderr}");
    }
    assert_eq!(text(&sharemall(&db, &["policy", "show"]).stdout), text(&default.stdout), "refused files change nothing");

    let depth_two = "[commission]\ndepth = 2\nacknowledge_second_level_risk = true\nrate_bps = 2000\nsecond_level_rate_bps = 500\n";
    let saved = sharemall(&db, &["policy", "set", "--file", &write(&dir, "ok.toml", depth_two)]);
    assert!(saved.status.success(), "{}", text(&saved.stderr));
    assert!(text(&saved.stdout).contains("risk [second_level_acknowledged]"));
    let shown = text(&sharemall(&db, &["policy", "show"]).stdout);
    assert!(shown.contains("depth = 2") && shown.contains("second_level_rate_bps = 500"), "{shown}");

    let audit = sharemall(&db, &["compliance", "audit"]);
    let report = text(&audit.stdout);
    assert!(audit.status.success(), "{report}");
    assert!(report.contains("[second_level_acknowledged]") && report.contains("Result: clean"), "{report}");
    let json = sharemall(&db, &["compliance", "audit", "--json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("audit JSON");
    assert_eq!(parsed["facts"]["policy"]["depth"], 2);
    let _ = std::fs::remove_dir_all(&dir);
}
