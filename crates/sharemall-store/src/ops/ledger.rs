//! Writing and reading the ledger (`domain::ledger`): transfers are only ever inserted, each
//! with an id derived from what it is about, so a command that runs twice posts once.
//!
//! A command collects its transfers in [`Postings`] and writes them together: one statement
//! for the accounts, one for the transfers, and one balance update per beneficiary account
//! that a new transfer touched. Balances are cached only for the beneficiaries' accounts
//! (withdrawals read them); the platform-wide accounts are summed when read, so no payment
//! waits on a row every other payment updates.

use sharemall_domain::ledger::{Account, AccountKind, TransferKind, transfer_id};
use sharemall_domain::{Error, Money, OrderId, RefundId, Timestamp, UserId, WithdrawalId};
use std::collections::BTreeMap;

use crate::params;
use crate::sql::{Sql, Value};

/// What a transfer is about: the references it carries, which also make its id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct About {
    pub order: Option<OrderId>,
    pub line_no: Option<i64>,
    pub refund: Option<RefundId>,
    pub withdrawal: Option<WithdrawalId>,
    /// What else makes the transfer unique (a payment id, for a payment received).
    pub tag: Option<uuid::Uuid>,
}

impl About {
    pub fn order(order: OrderId) -> About {
        About { order: Some(order), ..About::default() }
    }

    pub fn line(order: OrderId, line_no: i64) -> About {
        About { order: Some(order), line_no: Some(line_no), ..About::default() }
    }

    pub fn refund(self, refund: RefundId) -> About {
        About { refund: Some(refund), ..self }
    }

    pub fn withdrawal(withdrawal: WithdrawalId) -> About {
        About { withdrawal: Some(withdrawal), ..About::default() }
    }
}

#[derive(Debug, Clone)]
struct Posting {
    id: uuid::Uuid,
    kind: TransferKind,
    debit: Account,
    credit: Account,
    amount: Money,
    about: About,
}

/// The transfers one command posts, written together by [`Postings::write`].
#[derive(Debug, Default)]
pub struct Postings(Vec<Posting>);

/// Most transfers in one multi-row insert (10 parameters each).
const ROWS_PER_INSERT: usize = 100;

impl Postings {
    /// Adds a transfer. A zero amount posts nothing; a negative one is a bug in the caller.
    pub fn add(&mut self, kind: TransferKind, debit: Account, credit: Account, amount: Money, about: About) -> Result<(), Error> {
        if amount.fen() < 0 {
            return Err(Error::internal(format!("{} of a negative amount {amount}", kind.as_str())));
        }
        if amount.fen() == 0 {
            return Ok(());
        }
        let (debit_kind, credit_kind) = kind.accounts();
        if debit.kind != debit_kind || credit.kind != credit_kind {
            return Err(Error::internal(format!("{} cannot move money from {} to {}", kind.as_str(), debit.key(), credit.key())));
        }
        if kind.needs_order_line() && (about.order.is_none() || about.line_no.is_none()) {
            return Err(Error::internal(format!("{} must name an order line", kind.as_str())));
        }
        let parts =
            [debit.key(), credit.key(), opt(about.order), opt(about.line_no), opt(about.refund), opt(about.withdrawal), opt(about.tag)];
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        self.0.push(Posting { id: transfer_id(kind, &refs), kind, debit, credit, amount, about });
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Writes the transfers not written before and moves the cached balances they touch.
    /// Returns how many were new.
    pub fn write(self, sql: &mut dyn Sql, now: Timestamp) -> Result<usize, Error> {
        if self.0.is_empty() {
            return Ok(0);
        }
        ensure_accounts(sql, now, &self.0)?;
        let mut new_ids = std::collections::HashSet::new();
        for chunk in self.0.chunks(ROWS_PER_INSERT) {
            let mut values = Vec::with_capacity(chunk.len());
            let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * 10);
            for (i, p) in chunk.iter().enumerate() {
                let b = i * 10;
                values.push(format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9,
                    b + 10
                ));
                params.extend([
                    Value::from(p.id),
                    Value::from(p.kind.as_str()),
                    Value::from(p.debit.key()),
                    Value::from(p.credit.key()),
                    Value::from(p.amount),
                    Value::from(p.about.order),
                    Value::from(p.about.line_no),
                    Value::from(p.about.refund),
                    Value::from(p.about.withdrawal),
                    Value::from(now),
                ]);
            }
            let rows = sql.query(
                &format!(
                    "INSERT INTO ledger_transfers (id, kind, debit_account, credit_account, amount_fen, order_id, line_no, refund_id, withdrawal_id, created_at) \
                     VALUES {} ON CONFLICT (id) DO NOTHING RETURNING id",
                    values.join(", ")
                ),
                &params,
            )?;
            for row in rows {
                new_ids.insert(row.uuid(0)?);
            }
        }
        // Net movement per cached account, applied in key order so that two transactions
        // touching the same accounts lock them in the same order.
        let mut deltas: BTreeMap<String, i64> = BTreeMap::new();
        for p in self.0.iter().filter(|p| new_ids.contains(&p.id)) {
            if p.debit.kind.is_commission() {
                let d = deltas.entry(p.debit.key()).or_default();
                *d = d.checked_sub(p.amount.fen()).ok_or_else(|| Error::internal("balance overflow"))?;
            }
            if p.credit.kind.is_commission() {
                let d = deltas.entry(p.credit.key()).or_default();
                *d = d.checked_add(p.amount.fen()).ok_or_else(|| Error::internal("balance overflow"))?;
            }
        }
        for (key, delta) in deltas.into_iter().filter(|(_, d)| *d != 0) {
            sql.execute("UPDATE ledger_accounts SET balance_fen = balance_fen + $2 WHERE key = $1", params![key, delta])?;
        }
        Ok(new_ids.len())
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// Creates the accounts the postings name that do not exist yet.
fn ensure_accounts(sql: &mut dyn Sql, now: Timestamp, postings: &[Posting]) -> Result<(), Error> {
    let mut accounts: BTreeMap<String, &Account> = BTreeMap::new();
    for p in postings {
        accounts.entry(p.debit.key()).or_insert(&p.debit);
        accounts.entry(p.credit.key()).or_insert(&p.credit);
    }
    let mut values = Vec::with_capacity(accounts.len());
    let mut params: Vec<Value> = Vec::with_capacity(accounts.len() * 5);
    for (i, (key, account)) in accounts.iter().enumerate() {
        let b = i * 5;
        values.push(format!("(${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5));
        let balance = if account.kind.is_commission() { Value::Int(0) } else { Value::Null };
        params.extend([
            Value::from(key.as_str()),
            Value::from(account.kind.as_str()),
            Value::from(account.owner.clone()),
            balance,
            Value::from(now),
        ]);
    }
    sql.execute(
        &format!(
            "INSERT INTO ledger_accounts (key, kind, owner_id, balance_fen, created_at) VALUES {} ON CONFLICT (key) DO NOTHING",
            values.join(", ")
        ),
        &params,
    )?;
    Ok(())
}

/// A beneficiary's commission balances, from the cached balances of their accounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Balances {
    /// Earned, inside the return window.
    pub pending_fen: i64,
    /// Withdrawable; negative after a clawback until later earnings net it off.
    pub available_fen: i64,
    /// Set aside for withdrawals being decided or paid out.
    pub withdrawing_fen: i64,
    /// Paid out, in total.
    pub paid_out_fen: i64,
}

pub fn balances(sql: &mut dyn Sql, user: UserId) -> Result<Balances, Error> {
    let rows = sql.query("SELECT kind, balance_fen FROM ledger_accounts WHERE owner_id = $1 AND balance_fen IS NOT NULL", params![user])?;
    let mut b = Balances::default();
    for row in rows {
        let fen = row.i64(1)?;
        match AccountKind::parse(&row.text(0)?)? {
            AccountKind::CommissionPending => b.pending_fen = fen,
            AccountKind::CommissionAvailable => b.available_fen = fen,
            AccountKind::WithdrawalHold => b.withdrawing_fen = fen,
            AccountKind::PaidOut => b.paid_out_fen = fen,
            _ => {}
        }
    }
    Ok(b)
}

/// One account's balance summed from its transfers (credits − debits): what the cache must
/// equal, and how the platform-wide accounts are read.
pub fn summed_balance(sql: &mut dyn Sql, account: &Account) -> Result<Money, Error> {
    let key = account.key();
    let credits = sql.query_i64(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM ledger_transfers WHERE credit_account = $1",
        params![key.clone()],
    )?;
    let debits =
        sql.query_i64("SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM ledger_transfers WHERE debit_account = $1", params![key])?;
    Money::from_fen(credits).checked_sub(Money::from_fen(debits))
}
