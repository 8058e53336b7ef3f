//! The compliance guard (SPEC 3.8): the commission policy an operator may set, and the rules
//! that make pyramid-style distribution impossible to configure. Every way a policy arrives —
//! a file, an API call, a direct store call — goes through [`check_policy`], which refuses what
//! the rules forbid with the rule and its legal reference.

use serde::{Deserialize, Serialize};

use crate::catalog::COMMISSION_CAP_BPS;
use crate::error::{Error, ErrorCode};

mod audit;
mod policy_file;

pub use audit::{ALERT_TREE_DEPTH, ALERT_TREE_SIZE, AuditFacts, AuditReport, Finding, audit};
pub use policy_file::{KNOWN_KEYS, parse_policy_toml, policy_from_table, policy_to_toml};

/// A rule of the guard. Its code is stable (the API and the audit report use it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Commission depth is 1, or 2 behind an acknowledgement; never 3 or more.
    MaxDepth,
    /// Opening a shop or earning commission never needs a payment or a purchase.
    NoEntryFee,
    /// Nothing pays for bringing in shop owners or members.
    NoRecruitmentReward,
    /// Nothing pays on a downline's downline or on team volume.
    NoTeamBonus,
    /// Commission per order line is at most 30% of the goods amount paid.
    CommissionCap,
    /// No commission is withdrawable before the return window closes.
    NoEarlyWithdrawal,
    /// A second level is allowed only when the operator acknowledged the risk; it is reported.
    SecondLevelAcknowledged,
}

impl Rule {
    pub const ALL: [Rule; 7] = [
        Rule::MaxDepth,
        Rule::NoEntryFee,
        Rule::NoRecruitmentReward,
        Rule::NoTeamBonus,
        Rule::CommissionCap,
        Rule::NoEarlyWithdrawal,
        Rule::SecondLevelAcknowledged,
    ];

    pub const fn code(self) -> &'static str {
        match self {
            Rule::MaxDepth => "max_depth",
            Rule::NoEntryFee => "no_entry_fee",
            Rule::NoRecruitmentReward => "no_recruitment_reward",
            Rule::NoTeamBonus => "no_team_bonus",
            Rule::CommissionCap => "commission_cap",
            Rule::NoEarlyWithdrawal => "no_early_withdrawal",
            Rule::SecondLevelAcknowledged => "second_level_acknowledged",
        }
    }

    /// The legal reference the rule rests on.
    pub const fn citation(self) -> &'static str {
        match self {
            Rule::MaxDepth => {
                "《禁止传销条例》第七条; 刑法第二百二十四条之一 (组织、领导传销活动罪: ≥30 participants and ≥3 levels) — \
                 Regulations on Prohibition of Pyramid Selling, art. 7; Criminal Law art. 224-1"
            }
            Rule::NoEntryFee => {
                "《禁止传销条例》第七条第二项 (entry fees, 入门费) — Regulations on Prohibition of Pyramid Selling, art. 7(2)"
            }
            Rule::NoRecruitmentReward => {
                "《禁止传销条例》第七条第一项 (rewards for recruiting, 拉人头) — Regulations on Prohibition of Pyramid Selling, art. 7(1)"
            }
            Rule::NoTeamBonus => {
                "《禁止传销条例》第七条第三项 (pay on a downline's sales, 团队计酬) — Regulations on Prohibition of Pyramid Selling, art. 7(3)"
            }
            Rule::CommissionCap => "《直销管理条例》第二十四条 (30% ceiling) — Regulations on Direct Selling, art. 24",
            Rule::NoEarlyWithdrawal => "《消费者权益保护法》第二十五条 (7-day returns) — Consumer Rights Protection Law, art. 25",
            Rule::SecondLevelAcknowledged => {
                "《禁止传销条例》第七条 (multi-level pay) — Regulations on Prohibition of Pyramid Selling, art. 7"
            }
        }
    }

    /// The refusal of a policy that breaks this rule.
    pub fn refuse(self, detail: impl std::fmt::Display) -> Error {
        Error::new(ErrorCode::PolicyForbidden, format!("{detail} [rule {}: {}]", self.code(), self.citation()))
    }
}

/// How long a share visit binds a customer to the shop it came from (SPEC 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Binding {
    /// The first binding holds for `days`; only a visit after that may move the customer.
    Protected { days: i64 },
    /// The first binding is for good.
    Permanent,
}

/// The commission policy the operator sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommissionPolicy {
    /// 1: only the attributed shop's owner earns; 2: the user who invited that owner too.
    pub depth: i64,
    /// The first-level ceiling: a line pays its SKU's own rate, never more than this.
    pub rate_bps: i64,
    /// What the inviter earns at depth 2 (0 at depth 1).
    pub second_level_rate_bps: i64,
    /// The operator's explicit acknowledgement that depth 2 is a legal risk.
    pub acknowledge_second_level_risk: bool,
    /// Days after the 7-day return window before commission settles.
    pub settle_buffer_days: i64,
    pub binding: Binding,
}

/// Longest settlement buffer, in days.
pub const MAX_SETTLE_BUFFER_DAYS: i64 = 30;
/// Binding protection, in days.
pub const PROTECTION_DAYS: std::ops::RangeInclusive<i64> = 1..=365;

impl CommissionPolicy {
    pub const DEFAULT: CommissionPolicy = CommissionPolicy {
        depth: 1,
        rate_bps: COMMISSION_CAP_BPS,
        second_level_rate_bps: 0,
        acknowledge_second_level_risk: false,
        settle_buffer_days: 0,
        binding: Binding::Protected { days: 15 },
    };
}

impl Default for CommissionPolicy {
    fn default() -> Self {
        CommissionPolicy::DEFAULT
    }
}

/// A risk the guard lets through but reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    pub rule: Rule,
    pub detail: String,
}

/// Passes a policy through the guard: refuses what a rule forbids (`policy_forbidden`, naming
/// the rule) or what makes no sense (`policy_invalid`); returns the risks it reports.
pub fn check_policy(policy: &CommissionPolicy) -> Result<Vec<Risk>, Error> {
    if policy.depth >= 3 {
        return Err(Rule::MaxDepth.refuse(format!("commission depth {} is forbidden: at most 2 levels may ever earn", policy.depth)));
    }
    if policy.depth < 1 {
        return Err(Error::new(ErrorCode::PolicyInvalid, "commission depth must be 1 or 2"));
    }
    if policy.rate_bps < 0 || policy.second_level_rate_bps < 0 {
        return Err(Error::new(ErrorCode::PolicyInvalid, "commission rates cannot be negative"));
    }
    if policy.depth == 1 && policy.second_level_rate_bps > 0 {
        return Err(Error::new(ErrorCode::PolicyInvalid, "a second-level rate needs depth 2"));
    }
    if policy.depth == 2 && !policy.acknowledge_second_level_risk {
        return Err(Rule::SecondLevelAcknowledged.refuse("depth 2 needs acknowledge_second_level_risk = true"));
    }
    let total = policy.rate_bps.saturating_add(policy.second_level_rate_bps);
    if total > COMMISSION_CAP_BPS {
        return Err(Rule::CommissionCap
            .refuse(format!("a total commission of {total} bps per order line exceeds the ceiling of {COMMISSION_CAP_BPS} bps (30%)")));
    }
    if policy.settle_buffer_days < 0 {
        return Err(
            Rule::NoEarlyWithdrawal.refuse("a negative settlement buffer would make commission withdrawable inside the return window")
        );
    }
    if policy.settle_buffer_days > MAX_SETTLE_BUFFER_DAYS {
        return Err(Error::new(ErrorCode::PolicyInvalid, format!("the settlement buffer is at most {MAX_SETTLE_BUFFER_DAYS} days")));
    }
    if let Binding::Protected { days } = policy.binding
        && !PROTECTION_DAYS.contains(&days)
    {
        return Err(Error::new(ErrorCode::PolicyInvalid, "binding protection is 1 to 365 days"));
    }
    let mut risks = Vec::new();
    if policy.depth == 2 {
        risks.push(Risk {
            rule: Rule::SecondLevelAcknowledged,
            detail: format!(
                "depth 2: the inviter of a shop owner earns {} bps on that owner's sales (acknowledged by the operator)",
                policy.second_level_rate_bps
            ),
        });
    }
    Ok(risks)
}

#[cfg(test)]
mod tests;
