#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn refused_by(result: Result<impl std::fmt::Debug, Error>, rule: Rule) {
    let e = result.expect_err("must be refused");
    assert_eq!(e.code, ErrorCode::PolicyForbidden, "{e}");
    assert!(e.message.contains(&format!("rule {}", rule.code())), "{e} should name rule {}", rule.code());
    assert!(e.message.contains(rule.citation()), "{e} should cite the law");
}

fn policy(f: impl FnOnce(&mut CommissionPolicy)) -> CommissionPolicy {
    let mut p = CommissionPolicy::DEFAULT;
    f(&mut p);
    p
}

#[test]
fn the_default_passes_with_no_risk() {
    assert_eq!(check_policy(&CommissionPolicy::default()), Ok(vec![]));
    assert_eq!(parse_policy_toml("").unwrap(), CommissionPolicy::DEFAULT);
    assert_eq!(parse_policy_toml("[commission]\n").unwrap(), CommissionPolicy::DEFAULT);
}

/// TESTING T13, the direct call: every forbidden policy is refused with its rule.
#[test]
fn forbidden_policies_are_refused_by_the_guard() {
    refused_by(check_policy(&policy(|p| p.depth = 3)), Rule::MaxDepth);
    refused_by(check_policy(&policy(|p| p.depth = 7)), Rule::MaxDepth);
    refused_by(check_policy(&policy(|p| p.rate_bps = 3_001)), Rule::CommissionCap);
    refused_by(
        check_policy(&policy(|p| {
            p.depth = 2;
            p.acknowledge_second_level_risk = true;
            p.rate_bps = 2_000;
            p.second_level_rate_bps = 1_001;
        })),
        Rule::CommissionCap,
    );
    refused_by(check_policy(&policy(|p| p.settle_buffer_days = -1)), Rule::NoEarlyWithdrawal);
    refused_by(
        check_policy(&policy(|p| {
            p.depth = 2;
            p.second_level_rate_bps = 500;
        })),
        Rule::SecondLevelAcknowledged,
    );
}

/// TESTING T13, the file: the same policies, and every forbidden mechanic named by a key.
#[test]
fn forbidden_policy_files_are_refused() {
    let cases: &[(&str, Rule)] = &[
        ("[commission]\ndepth = 3\n", Rule::MaxDepth),
        ("[commission]\nrate_bps = 3001\n", Rule::CommissionCap),
        (
            "[commission]\ndepth = 2\nacknowledge_second_level_risk = true\nrate_bps = 2000\nsecond_level_rate_bps = 1001\n",
            Rule::CommissionCap,
        ),
        ("[commission]\nsettle_buffer_days = -3\n", Rule::NoEarlyWithdrawal),
        ("[commission]\ninstant_withdraw = true\n", Rule::NoEarlyWithdrawal),
        ("[commission]\nshop_entry_fee_fen = 9900\n", Rule::NoEntryFee),
        ("[commission]\npurchase_required = true\n", Rule::NoEntryFee),
        ("[commission]\nrecruit_reward_fen = 500\n", Rule::NoRecruitmentReward),
        ("[commission]\ninvite_reward_bps = 100\n", Rule::NoRecruitmentReward),
        ("[commission]\nteam_bonus_bps = 200\n", Rule::NoTeamBonus),
        ("[commission]\noverride_bps = 200\n", Rule::NoTeamBonus),
        ("[commission]\nthird_level_rate_bps = 100\n", Rule::MaxDepth),
        ("[team_bonus]\nrate_bps = 100\n", Rule::NoTeamBonus),
        ("[commission]\n\"Join-Price\" = 100\n", Rule::NoEntryFee),
        ("[commission]\ndepth = 2\nsecond_level_rate_bps = 500\n", Rule::SecondLevelAcknowledged),
    ];
    for (text, rule) in cases {
        refused_by(parse_policy_toml(text), *rule);
    }
}

#[test]
fn depth_two_is_allowed_only_when_acknowledged_and_reported_as_a_risk() {
    let text = "[commission]\ndepth = 2\nacknowledge_second_level_risk = true\nrate_bps = 2000\nsecond_level_rate_bps = 500\n";
    let p = parse_policy_toml(text).unwrap();
    assert_eq!((p.depth, p.rate_bps, p.second_level_rate_bps), (2, 2_000, 500));
    let risks = check_policy(&p).unwrap();
    assert_eq!(risks.len(), 1);
    assert_eq!(risks[0].rule, Rule::SecondLevelAcknowledged);
    assert!(risks[0].detail.contains("500 bps"));
}

#[test]
fn mistakes_are_invalid_not_forbidden() {
    let invalid = |text: &str| {
        let e = parse_policy_toml(text).expect_err(text);
        assert_eq!(e.code, ErrorCode::PolicyInvalid, "{text}: {e}");
        e.message
    };
    assert!(invalid("[commission]\nrate_bsp = 100\n").contains("unknown key `rate_bsp`"));
    invalid("[commission\n");
    invalid("[commission]\ndepth = \"one\"\n");
    invalid("[commission]\ndepth = 0\n");
    invalid("[commission]\nsecond_level_rate_bps = 100\n");
    invalid("[commission]\nsettle_buffer_days = 31\n");
    invalid("[commission]\nprotection_days = 0\n");
    invalid("[commission]\nbinding = \"forever\"\n");
    invalid("[commission]\nbinding = \"permanent\"\nprotection_days = 15\n");
    invalid("[sharing]\nbinding = \"permanent\"\n");
}

#[test]
fn the_file_round_trips() {
    let policies = [
        CommissionPolicy::DEFAULT,
        policy(|p| {
            p.depth = 2;
            p.acknowledge_second_level_risk = true;
            p.rate_bps = 2_500;
            p.second_level_rate_bps = 500;
            p.settle_buffer_days = 3;
            p.binding = Binding::Permanent;
        }),
        policy(|p| p.binding = Binding::Protected { days: 365 }),
    ];
    for p in policies {
        let text = policy_to_toml(&p);
        assert_eq!(parse_policy_toml(&text).unwrap(), p, "{text}");
    }
}

#[test]
fn every_rule_has_a_distinct_code_and_a_citation() {
    let codes: std::collections::HashSet<_> = Rule::ALL.iter().map(|r| r.code()).collect();
    assert_eq!(codes.len(), Rule::ALL.len());
    assert!(Rule::ALL.iter().all(|r| r.citation().contains('《')));
}

fn facts(depth: u32, size: u64) -> AuditFacts {
    AuditFacts {
        policy: CommissionPolicy::DEFAULT,
        invite_tree_max_depth: depth,
        invite_tree_largest_size: size,
        transfers_not_tied_to_order_line: 0,
        charges_without_goods: 0,
        live_bargain_campaigns: 0,
    }
}

#[test]
fn the_audit_alerts_when_the_invite_tree_crosses_both_thresholds() {
    for (depth, size) in [(2, 100), (3, 29), (9, 1)] {
        let report = audit(facts(depth, size));
        assert!(report.is_clean() && report.alerts.is_empty(), "{depth} levels, {size} people");
    }
    let criminal_line = audit(facts(3, 30));
    assert!(criminal_line.is_clean(), "no money flows past level 2, so the tree alone is no violation");
    assert_eq!(criminal_line.alerts.iter().map(|a| a.rule).collect::<Vec<_>>(), vec![Rule::MaxDepth]);
    assert!(criminal_line.render_text().contains("Alerts: 1"));

    let stored_before_the_guard = audit(AuditFacts { policy: policy(|p| p.depth = 3), ..facts(1, 1) });
    assert!(!stored_before_the_guard.is_clean());
    assert!(stored_before_the_guard.render_text().contains("VIOLATIONS FOUND"));

    let untied = audit(AuditFacts { transfers_not_tied_to_order_line: 1, ..facts(1, 1) });
    assert_eq!(untied.violations.iter().map(|v| v.rule).collect::<Vec<_>>(), vec![Rule::NoRecruitmentReward]);
    let fee = audit(AuditFacts { charges_without_goods: 2, ..facts(1, 1) });
    assert_eq!(fee.violations.iter().map(|v| v.rule).collect::<Vec<_>>(), vec![Rule::NoEntryFee]);
    let text = fee.render_text();
    assert!(text.contains("[no_entry_fee]") && text.contains(Rule::NoEntryFee.citation()), "{text}");
}

#[test]
fn the_audit_reports_depth_two_and_the_wechat_warning() {
    let mut f = facts(2, 3);
    f.policy = policy(|p| {
        p.depth = 2;
        p.acknowledge_second_level_risk = true;
        p.rate_bps = 2_000;
        p.second_level_rate_bps = 500;
    });
    f.live_bargain_campaigns = 1;
    let report = audit(f);
    assert!(report.is_clean());
    assert_eq!(report.risks[0].rule, Rule::SecondLevelAcknowledged);
    assert!(report.wechat_h5_warning.as_deref().is_some_and(|w| w.contains("诱导分享")));
    let text = report.render_text();
    assert!(text.contains("[second_level_acknowledged]") && text.contains("WeChat H5") && text.contains("Result: clean"), "{text}");
}
