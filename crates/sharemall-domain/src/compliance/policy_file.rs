//! The policy as a file (`sharemall policy show` / `policy set --file policy.toml`): a
//! `[commission]` table of known keys. A key the guard forbids by its very name (an entry fee,
//! a recruitment reward, a team bonus, a third level, an early withdrawal) is refused with the
//! rule it breaks; any other unknown key is refused as a typo, so nothing is silently ignored.

use super::{Binding, CommissionPolicy, Rule, check_policy};
use crate::error::{Error, ErrorCode};

/// The keys of `[commission]`.
pub const KNOWN_KEYS: [&str; 7] =
    ["depth", "rate_bps", "second_level_rate_bps", "acknowledge_second_level_risk", "settle_buffer_days", "binding", "protection_days"];

/// Name fragments that mark a forbidden mechanic, with the rule each breaks.
const FORBIDDEN_FRAGMENTS: [(&str, Rule); 22] = [
    ("fee", Rule::NoEntryFee),
    ("entry", Rule::NoEntryFee),
    ("join_price", Rule::NoEntryFee),
    ("membership_required", Rule::NoEntryFee),
    ("purchase_required", Rule::NoEntryFee),
    ("deposit", Rule::NoEntryFee),
    ("recruit", Rule::NoRecruitmentReward),
    ("invite_reward", Rule::NoRecruitmentReward),
    ("referral_bonus", Rule::NoRecruitmentReward),
    ("pull_new", Rule::NoRecruitmentReward),
    ("拉人", Rule::NoRecruitmentReward),
    ("team", Rule::NoTeamBonus),
    ("override", Rule::NoTeamBonus),
    ("downline", Rule::NoTeamBonus),
    ("group_volume", Rule::NoTeamBonus),
    ("团队", Rule::NoTeamBonus),
    ("level_3", Rule::MaxDepth),
    ("third_level", Rule::MaxDepth),
    ("depth_3", Rule::MaxDepth),
    ("withdraw_before", Rule::NoEarlyWithdrawal),
    ("instant_withdraw", Rule::NoEarlyWithdrawal),
    ("settle_immediately", Rule::NoEarlyWithdrawal),
];

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::PolicyInvalid, message)
}

fn forbidden_key(key: &str) -> Option<Error> {
    // `Join-Price`, `join price` and `join_price` name the same mechanic.
    let lower = key.to_lowercase().replace(['-', ' ', '.'], "_");
    FORBIDDEN_FRAGMENTS
        .iter()
        .find(|(fragment, _)| lower.contains(fragment))
        .map(|(_, rule)| rule.refuse(format!("the key `{key}` configures a forbidden mechanic")))
}

fn int(table: &toml::Table, key: &str, default: i64) -> Result<i64, Error> {
    match table.get(key) {
        None => Ok(default),
        Some(toml::Value::Integer(v)) => Ok(*v),
        Some(_) => Err(invalid(format!("`{key}` must be an integer"))),
    }
}

/// Reads a policy file and passes it through the guard.
pub fn parse_policy_toml(text: &str) -> Result<CommissionPolicy, Error> {
    let root: toml::Table = text.parse().map_err(|e: toml::de::Error| invalid(format!("not a valid policy file: {}", e.message())))?;
    for key in root.keys() {
        if let Some(refused) = forbidden_key(key) {
            return Err(refused);
        }
        if key != "commission" {
            return Err(invalid(format!("unknown table `{key}`: the policy file has one `[commission]` table")));
        }
    }
    match root.get("commission") {
        None => policy_from_table(&toml::Table::new()),
        Some(toml::Value::Table(t)) => policy_from_table(t),
        Some(_) => Err(invalid("`commission` must be a table")),
    }
}

/// Reads the keys of a `[commission]` table — from the file, or from an API body with the same
/// keys — and passes the policy through the guard.
pub fn policy_from_table(table: &toml::Table) -> Result<CommissionPolicy, Error> {
    for key in table.keys() {
        if let Some(refused) = forbidden_key(key) {
            return Err(refused);
        }
        if !KNOWN_KEYS.contains(&key.as_str()) {
            return Err(invalid(format!("unknown key `{key}` in [commission]; the keys are {}", KNOWN_KEYS.join(", "))));
        }
    }
    let d = CommissionPolicy::DEFAULT;
    let acknowledge = match table.get("acknowledge_second_level_risk") {
        None => d.acknowledge_second_level_risk,
        Some(toml::Value::Boolean(b)) => *b,
        Some(_) => return Err(invalid("`acknowledge_second_level_risk` must be true or false")),
    };
    let default_days = match d.binding {
        Binding::Protected { days } => days,
        Binding::Permanent => 15,
    };
    let binding = match table.get("binding") {
        None => Binding::Protected { days: int(table, "protection_days", default_days)? },
        Some(toml::Value::String(s)) if s == "protected" => Binding::Protected { days: int(table, "protection_days", default_days)? },
        Some(toml::Value::String(s)) if s == "permanent" => {
            if table.contains_key("protection_days") {
                return Err(invalid("`protection_days` applies only to binding = \"protected\""));
            }
            Binding::Permanent
        }
        Some(_) => return Err(invalid("`binding` is \"protected\" or \"permanent\"")),
    };
    let policy = CommissionPolicy {
        depth: int(table, "depth", d.depth)?,
        rate_bps: int(table, "rate_bps", d.rate_bps)?,
        second_level_rate_bps: int(table, "second_level_rate_bps", d.second_level_rate_bps)?,
        acknowledge_second_level_risk: acknowledge,
        settle_buffer_days: int(table, "settle_buffer_days", d.settle_buffer_days)?,
        binding,
    };
    check_policy(&policy)?;
    Ok(policy)
}

/// Writes a policy as the file `parse_policy_toml` reads, with a comment on every key.
pub fn policy_to_toml(policy: &CommissionPolicy) -> String {
    let (binding, days) = match policy.binding {
        Binding::Protected { days } => ("protected", Some(days)),
        Binding::Permanent => ("permanent", None),
    };
    let mut out = String::from(
        "# sharemall commission policy. Every change passes the compliance guard (SPEC 3.8):\n\
         # no third level, no entry fee, no recruitment reward, no team bonus, at most 30% per line.\n\
         [commission]\n",
    );
    let keys: [(&str, &str, String); 6] = [
        ("1: only the attributed shop's owner earns; 2: their inviter too (needs the acknowledgement).", "depth", policy.depth.to_string()),
        ("The first-level ceiling in basis points: a line pays its SKU's rate, never more.", "rate_bps", policy.rate_bps.to_string()),
        (
            "What the inviter earns at depth 2, in basis points (0 at depth 1).",
            "second_level_rate_bps",
            policy.second_level_rate_bps.to_string(),
        ),
        (
            "Depth 2 is a legal risk; set true only after reading the compliance audit.",
            "acknowledge_second_level_risk",
            policy.acknowledge_second_level_risk.to_string(),
        ),
        (
            "Days after the 7-day return window before commission settles (0 to 30).",
            "settle_buffer_days",
            policy.settle_buffer_days.to_string(),
        ),
        ("\"protected\": the first share visit binds for protection_days; \"permanent\": for good.", "binding", format!("\"{binding}\"")),
    ];
    for (comment, key, value) in keys {
        out.push_str(&format!("# {comment}\n{key} = {value}\n"));
    }
    if let Some(days) = days {
        out.push_str(&format!("protection_days = {days}\n"));
    }
    out
}
