//! The compliance audit (SPEC 3.8): what the platform's data says about the rules, read by the
//! console page and `sharemall compliance audit`. The facts are counted by the store; this
//! module decides what is a risk, an alert or a violation, and writes the report.

use serde::Serialize;

use super::{CommissionPolicy, Risk, Rule, check_policy};

/// The criminal line of pyramid selling: an organisation of at least this many people...
pub const ALERT_TREE_SIZE: u64 = 30;
/// ...in at least this many levels.
pub const ALERT_TREE_DEPTH: u32 = 3;

/// What the store counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFacts {
    pub policy: CommissionPolicy,
    /// Levels in the deepest invite chain (a shop owner nobody invited is level 1).
    pub invite_tree_max_depth: u32,
    /// People in the largest invite tree (its root included).
    pub invite_tree_largest_size: u64,
    /// Commission transfers that name no consumer order line: must be 0.
    pub transfers_not_tied_to_order_line: u64,
    /// Payments that bought no goods (a fee to open a shop or to earn would be one): must be 0.
    pub charges_without_goods: u64,
    /// Bargain (砍价) campaigns that are live: help-to-cut mechanics shared inside WeChat.
    pub live_bargain_campaigns: u64,
}

/// One finding, with the rule it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub facts: AuditFacts,
    /// Allowed but reported (an acknowledged depth 2).
    pub risks: Vec<Risk>,
    /// Worth a look: the invite tree reached both criminal-line thresholds.
    pub alerts: Vec<Finding>,
    /// Must not happen: the audit fails.
    pub violations: Vec<Finding>,
    pub wechat_h5_warning: Option<String>,
}

impl AuditReport {
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

pub fn audit(facts: AuditFacts) -> AuditReport {
    let mut violations = Vec::new();
    let mut alerts = Vec::new();
    let risks = match check_policy(&facts.policy) {
        Ok(risks) => risks,
        Err(e) => {
            violations.push(Finding { rule: Rule::MaxDepth, detail: format!("the stored policy fails the guard: {}", e.message) });
            Vec::new()
        }
    };
    // The tree only records who invited whom: no money flows past level 2 whatever its shape,
    // so a tree across both thresholds is an alert to look at, not a violation.
    if facts.invite_tree_max_depth >= ALERT_TREE_DEPTH && facts.invite_tree_largest_size >= ALERT_TREE_SIZE {
        alerts.push(Finding {
            rule: Rule::MaxDepth,
            detail: format!(
                "the invite tree is {} levels deep and its largest tree has {} people (the criminal line: {ALERT_TREE_DEPTH} levels and {ALERT_TREE_SIZE} people)",
                facts.invite_tree_max_depth, facts.invite_tree_largest_size
            ),
        });
    }
    if facts.transfers_not_tied_to_order_line > 0 {
        violations.push(Finding {
            rule: Rule::NoRecruitmentReward,
            detail: format!("{} commission transfers name no consumer order line", facts.transfers_not_tied_to_order_line),
        });
    }
    if facts.charges_without_goods > 0 {
        violations.push(Finding { rule: Rule::NoEntryFee, detail: format!("{} payments bought no goods", facts.charges_without_goods) });
    }
    let wechat_h5_warning = (facts.live_bargain_campaigns > 0).then(|| {
        format!(
            "{} bargain campaigns are live. WeChat's platform rules forbid inducing shares (诱导分享) in H5 pages: \
             help-to-cut invitations must not promise a reward for sharing inside WeChat.",
            facts.live_bargain_campaigns
        )
    });
    AuditReport { facts, risks, alerts, violations, wechat_h5_warning }
}

impl AuditReport {
    /// The report as plain text, one section per item, every finding with its rule and citation.
    pub fn render_text(&self) -> String {
        let f = &self.facts;
        let mut out = String::from("sharemall compliance audit\n==========================\n\nPolicy\n");
        out.push_str(&format!(
            "  depth {} · first-level ceiling {} bps · second level {} bps (acknowledged: {}) · settlement buffer {} days\n",
            f.policy.depth,
            f.policy.rate_bps,
            f.policy.second_level_rate_bps,
            f.policy.acknowledge_second_level_risk,
            f.policy.settle_buffer_days
        ));
        out.push_str(&format!(
            "\nFacts\n  invite tree: {} levels, largest {} people\n  commission transfers not tied to an order line: {}\n  payments that bought no goods: {}\n  live bargain campaigns: {}\n",
            f.invite_tree_max_depth, f.invite_tree_largest_size, f.transfers_not_tied_to_order_line, f.charges_without_goods, f.live_bargain_campaigns
        ));
        let section = |out: &mut String, title: &str, items: Vec<(Rule, &str)>| {
            out.push_str(&format!("\n{title}: {}\n", items.len()));
            for (rule, detail) in items {
                out.push_str(&format!("  - [{}] {detail}\n    {}\n", rule.code(), rule.citation()));
            }
        };
        section(&mut out, "Risks", self.risks.iter().map(|r| (r.rule, r.detail.as_str())).collect());
        section(&mut out, "Alerts", self.alerts.iter().map(|r| (r.rule, r.detail.as_str())).collect());
        section(&mut out, "Violations", self.violations.iter().map(|r| (r.rule, r.detail.as_str())).collect());
        if let Some(warning) = &self.wechat_h5_warning {
            out.push_str(&format!("\nWeChat H5\n  {warning}\n"));
        }
        out.push_str(if self.is_clean() { "\nResult: clean\n" } else { "\nResult: VIOLATIONS FOUND\n" });
        out
    }
}
