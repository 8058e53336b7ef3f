//! The steps of the simulation: each picks what to do from the seed's random stream and acts
//! through the same use cases the API calls. A refusal with a stable error code is an outcome
//! like any other; an internal error, or a provider callback that lands differently from what
//! the order's state says it must, is a failure of the seed.

use anyhow::bail;
use rand::Rng;
use rand::rngs::StdRng;
use sharemall_app::App;
use sharemall_app::after_sales::{self, Answer, ReturnForm};
use sharemall_app::payments::{self, CallbackHeaders, PROVIDER_SANDBOX};
use sharemall_app::sandbox;
use sharemall_app::{jobs, orders, withdrawals};
use sharemall_domain::account::Role;
use sharemall_domain::time::{DAY_MS, HOUR_MS, MINUTE_MS};
use sharemall_domain::{Error, ErrorCode, OrderId, SupplierId};
use sharemall_store::model::SessionUser;
use sharemall_store::ops::after_sale_views::{self, AfterSale};
use sharemall_store::ops::payments::PaymentApplied;
use sharemall_store::ops::withdrawals::Decision;
use sharemall_store::ops::{ledger, sandbox as sandbox_store};
use sharemall_store::params;
use std::collections::HashMap;
use std::sync::Arc;

use super::world::World;

/// What a step can do, with how often it is picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Place,
    Pay,
    StartOnly,
    PayStarted,
    Redeliver,
    Cancel,
    Ship,
    Receive,
    OperatorRefund,
    ReturnRequest,
    ReturnDecide,
    ReturnShipBack,
    ReturnGoodsBack,
    ReturnCancel,
    Withdraw,
    WithdrawDecide,
    ClockJump,
    RunJobs,
}

const OPS: [(Op, u32); 18] = [
    (Op::Place, 18),
    (Op::Pay, 16),
    (Op::StartOnly, 3),
    (Op::PayStarted, 3),
    (Op::Redeliver, 4),
    (Op::Cancel, 2),
    (Op::Ship, 10),
    (Op::Receive, 8),
    (Op::OperatorRefund, 3),
    (Op::ReturnRequest, 6),
    (Op::ReturnDecide, 5),
    (Op::ReturnShipBack, 4),
    (Op::ReturnGoodsBack, 3),
    (Op::ReturnCancel, 1),
    (Op::Withdraw, 4),
    (Op::WithdrawDecide, 4),
    (Op::ClockJump, 8),
    (Op::RunJobs, 3),
];

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Place => "place",
            Op::Pay => "pay",
            Op::StartOnly => "start_payment_only",
            Op::PayStarted => "pay_started_late",
            Op::Redeliver => "redeliver_callback",
            Op::Cancel => "cancel",
            Op::Ship => "ship",
            Op::Receive => "receive",
            Op::OperatorRefund => "operator_refund",
            Op::ReturnRequest => "return_request",
            Op::ReturnDecide => "return_decide",
            Op::ReturnShipBack => "return_ship_back",
            Op::ReturnGoodsBack => "return_goods_back",
            Op::ReturnCancel => "return_cancel",
            Op::Withdraw => "withdraw",
            Op::WithdrawDecide => "withdraw_decide",
            Op::ClockJump => "clock_jump",
            Op::RunJobs => "run_jobs",
        }
    }

    pub fn pick(rng: &mut StdRng) -> Op {
        let total: u32 = OPS.iter().map(|(_, w)| w).sum();
        let mut roll = rng.random_range(0..total);
        for (op, weight) in OPS {
            if roll < weight {
                return op;
            }
            roll -= weight;
        }
        Op::RunJobs
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Refused by a rule, with its stable code: nothing changed.
    Refused(ErrorCode),
    /// Nothing to act on (no order in the right state yet).
    Idle,
}

/// A use case's answer as an outcome; an internal error fails the seed.
fn judge<T>(result: Result<T, Error>) -> anyhow::Result<Outcome> {
    match result {
        Ok(_) => Ok(Outcome::Done),
        Err(e) if e.code == ErrorCode::Internal => bail!("internal error: {e}"),
        Err(e) => Ok(Outcome::Refused(e.code)),
    }
}

/// Runs one step of kind `op`; returns how it ended and a line for the replay log.
pub async fn run(world: &mut World, rng: &mut StdRng, op: Op) -> anyhow::Result<(Outcome, String)> {
    match op {
        Op::Place => place(world, rng).await,
        Op::Pay => pay(world, rng, true).await,
        Op::StartOnly => pay(world, rng, false).await,
        Op::PayStarted => pay_started(world, rng).await,
        Op::Redeliver => redeliver(world, rng).await,
        Op::Cancel => on_order(world, rng, &["created"], |app, id, buyer| async move { orders::cancel(&app, &buyer, id).await }).await,
        Op::Ship => ship(world, rng).await,
        Op::Receive => {
            on_order(world, rng, &["shipped"], |app, id, buyer| async move { orders::confirm_receipt(&app, &buyer, id).await }).await
        }
        Op::OperatorRefund => operator_refund(world, rng).await,
        Op::ReturnRequest => return_request(world, rng).await,
        Op::ReturnDecide => return_decide(world, rng).await,
        Op::ReturnShipBack => {
            on_case(world, rng, "approved", |app, case, buyer| async move {
                after_sales::ship_back(&app, &buyer, case.id, "顺丰速运", "SF0000000001").await
            })
            .await
        }
        Op::ReturnGoodsBack => {
            let operator = world.operator.clone();
            on_case(world, rng, "returned", |app, case, _| async move { after_sales::confirm_goods_back(&app, &operator, case.id).await })
                .await
        }
        Op::ReturnCancel => {
            on_case(world, rng, "requested", |app, case, buyer| async move { after_sales::cancel(&app, &buyer, case.id).await }).await
        }
        Op::Withdraw => withdraw(world, rng).await,
        Op::WithdrawDecide => withdraw_decide(world, rng).await,
        Op::ClockJump => {
            let jumps = [MINUTE_MS, 16 * MINUTE_MS, 2 * HOUR_MS, DAY_MS, 3 * DAY_MS, 8 * DAY_MS];
            let by = jumps[rng.random_range(0..jumps.len())];
            world.clock.advance_ms(by);
            let ran = run_jobs(world).await?;
            Ok((Outcome::Done, format!("clock +{} min, {ran} jobs", by / MINUTE_MS)))
        }
        Op::RunJobs => {
            let ran = run_jobs(world).await?;
            Ok((Outcome::Done, format!("{ran} jobs")))
        }
    }
}

/// Runs job rounds until one runs nothing (bounded); returns how many jobs ran.
pub async fn run_jobs(world: &World) -> anyhow::Result<usize> {
    let mut total = 0;
    for _ in 0..20 {
        let ran = jobs::run_due(&world.app).await?;
        total += ran;
        if ran == 0 {
            break;
        }
    }
    Ok(total)
}

/// Everyone who buys: the customers, and the shop owners (in their own shop, a self-referral).
fn buyers(world: &World) -> Vec<SessionUser> {
    world.customers.iter().chain(world.owners.iter()).cloned().collect()
}

fn buyer_of(world: &World, user: sharemall_domain::UserId) -> anyhow::Result<SessionUser> {
    buyers(world).into_iter().find(|b| b.user_id == user).ok_or_else(|| anyhow::anyhow!("no buyer {user}"))
}

async fn place(world: &mut World, rng: &mut StdRng) -> anyhow::Result<(Outcome, String)> {
    let buyers = buyers(world);
    let buyer = buyers[rng.random_range(0..buyers.len())].clone();
    let shop = world.shops[rng.random_range(0..world.shops.len())];
    let mut lines = Vec::new();
    for _ in 0..rng.random_range(1..=2) {
        lines.push((world.skus[rng.random_range(0..world.skus.len())], rng.random_range(1..=3)));
    }
    let checkout = orders::Checkout {
        shop,
        lines,
        recipient: "模拟买家".into(),
        phone: "13800000000".into(),
        address: "上海市 模拟路 1 号".into(),
        note: String::new(),
        from_cart: false,
    };
    let placed = orders::place_order(&world.app, &buyer, checkout, None).await;
    if let Ok(p) = &placed {
        world.orders.push(p.order_id);
    }
    Ok((judge(placed)?, format!("{} places an order in shop {shop}", buyer.display_name)))
}

/// Every order's status and customer, one query.
async fn orders_now(world: &World) -> anyhow::Result<HashMap<OrderId, (String, sharemall_domain::UserId)>> {
    let rows = world
        .app
        .store
        .read(|sql| {
            sql.query("SELECT id, status, customer_id FROM orders", params![])?
                .iter()
                .map(|r| Ok((r.id(0)?, (r.text(1)?, r.id(2)?))))
                .collect::<Result<HashMap<_, _>, Error>>()
        })
        .await?;
    Ok(rows)
}

/// A random order (in placing order) whose status is one of `statuses`, with its customer.
async fn pick_order(world: &World, rng: &mut StdRng, statuses: &[&str]) -> anyhow::Result<Option<(OrderId, SessionUser)>> {
    let now = orders_now(world).await?;
    let candidates: Vec<_> =
        world.orders.iter().filter_map(|id| now.get(id).filter(|(s, _)| statuses.contains(&s.as_str())).map(|(_, c)| (*id, *c))).collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let (id, customer) = candidates[rng.random_range(0..candidates.len())];
    Ok(Some((id, buyer_of(world, customer)?)))
}

async fn on_order<F, Fut>(world: &World, rng: &mut StdRng, statuses: &[&str], act: F) -> anyhow::Result<(Outcome, String)>
where
    F: FnOnce(Arc<App>, OrderId, SessionUser) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let Some((id, buyer)) = pick_order(world, rng, statuses).await? else { return Ok((Outcome::Idle, String::new())) };
    Ok((judge(act(Arc::clone(&world.app), id, buyer).await)?, format!("order {id}")))
}

/// Starts a sandbox payment for an unpaid order and, when `complete`, pays it and delivers the
/// signed callback.
async fn pay(world: &mut World, rng: &mut StdRng, complete: bool) -> anyhow::Result<(Outcome, String)> {
    let Some((id, buyer)) = pick_order(world, rng, &["created"]).await? else { return Ok((Outcome::Idle, String::new())) };
    let started = match payments::start_payment(&world.app, &buyer, id, PROVIDER_SANDBOX, None).await {
        Ok(started) => started,
        Err(e) => return Ok((judge::<()>(Err(e))?, format!("order {id}: start payment"))),
    };
    let txn = started.pay_url.rsplit('/').next().unwrap_or_default().to_string();
    if !complete {
        return Ok((Outcome::Done, format!("order {id}: payment started, not paid")));
    }
    let applied = pay_and_notify(world, &txn).await?;
    match applied {
        Ok(PaymentApplied::Paid) => Ok((Outcome::Done, format!("order {id}: paid"))),
        Ok(other) => bail!("order {id} was waiting for payment, but its callback applied as {other:?}"),
        Err(e) => Ok((judge::<()>(Err(e))?, format!("order {id}: callback"))),
    }
}

/// Pays a payment started earlier, whatever became of its order since: a cancelled order's
/// money must come straight back.
async fn pay_started(world: &mut World, rng: &mut StdRng) -> anyhow::Result<(Outcome, String)> {
    let pending = world
        .app
        .store
        .read(|sql| {
            sql.query(
                "SELECT t.id, o.status FROM payments p JOIN sandbox_transactions t ON t.out_trade_no = p.out_trade_no \
                 JOIN orders o ON o.id = p.order_id WHERE p.status = 'pending' AND t.status <> 'paid' ORDER BY o.order_no, t.id",
                params![],
            )?
            .iter()
            .map(|r| Ok((r.text(0)?, r.text(1)?)))
            .collect::<Result<Vec<_>, Error>>()
        })
        .await?;
    if pending.is_empty() {
        return Ok((Outcome::Idle, String::new()));
    }
    let (txn, status) = pending[rng.random_range(0..pending.len())].clone();
    let applied = pay_and_notify(world, &txn).await?;
    let expected = if status == "created" { PaymentApplied::Paid } else { PaymentApplied::RefundedLate };
    match applied {
        Ok(got) if got == expected => Ok((Outcome::Done, format!("txn {txn}: paid while the order was {status}: {got:?}"))),
        Ok(got) => bail!("txn {txn} paid while its order was {status}: applied as {got:?}, expected {expected:?}"),
        Err(e) => Ok((judge::<()>(Err(e))?, format!("txn {txn}: callback"))),
    }
}

/// Delivers a paid transaction's callback again: with a fresh nonce it applies nothing twice;
/// with the same nonce it is a replay; with an old timestamp it is stale.
async fn redeliver(world: &mut World, rng: &mut StdRng) -> anyhow::Result<(Outcome, String)> {
    let paid = world
        .app
        .store
        .read(|sql| {
            sql.query("SELECT id FROM sandbox_transactions WHERE status = 'paid' ORDER BY out_trade_no", params![])?
                .iter()
                .map(|r| r.text(0))
                .collect::<Result<Vec<_>, Error>>()
        })
        .await?;
    if paid.is_empty() {
        return Ok((Outcome::Idle, String::new()));
    }
    let txn_id = paid[rng.random_range(0..paid.len())].clone();
    let txn = sandbox::transaction(&world.app, &txn_id).await?;
    let now = world.app.now().millis();
    match rng.random_range(0..3) {
        0 => {
            let nonce = format!("replay-{}", rng.random::<u64>());
            let first = deliver(world, &txn, now, &nonce).await;
            let again = deliver(world, &txn, now, &nonce).await;
            match (first, again) {
                (Ok(PaymentApplied::AlreadyApplied), Err(e)) if e.code == ErrorCode::ReplayedCallback => {
                    Ok((Outcome::Done, format!("txn {txn_id}: replay refused")))
                }
                (first, again) => bail!("txn {txn_id}: redelivery {first:?}, replay {again:?}"),
            }
        }
        1 => match deliver(world, &txn, now - 10 * MINUTE_MS, "stale").await {
            Err(e) if e.code == ErrorCode::StaleCallback => Ok((Outcome::Refused(e.code), format!("txn {txn_id}: stale refused"))),
            other => bail!("txn {txn_id}: a 10-minute-old callback answered {other:?}"),
        },
        _ => match deliver(world, &txn, now, &format!("again-{}", rng.random::<u64>())).await {
            Ok(PaymentApplied::AlreadyApplied) => Ok((Outcome::Done, format!("txn {txn_id}: redelivered, nothing changed"))),
            other => bail!("txn {txn_id}: a redelivered callback answered {other:?}"),
        },
    }
}

/// The payer confirms on the provider's side, and the provider calls back.
async fn pay_and_notify(world: &World, txn_id: &str) -> anyhow::Result<Result<PaymentApplied, Error>> {
    let (now, id) = (world.app.now(), txn_id.to_string());
    let txn = world.app.store.write(move |sql| sandbox_store::mark_paid(sql, now, &id)).await?;
    Ok(deliver(world, &txn, now.millis(), &format!("n-{txn_id}")).await)
}

/// Signs and delivers the provider's "paid" callback for `txn`, as the sandbox sends it.
async fn deliver(
    world: &World,
    txn: &sharemall_store::ops::sandbox::SandboxTransaction,
    at_ms: i64,
    nonce: &str,
) -> Result<PaymentApplied, Error> {
    let timestamp = at_ms.to_string();
    let (body, signature) = sandbox::signed_notice(&world.app.config.sandbox_key, txn, &timestamp, nonce)?;
    let headers = CallbackHeaders { timestamp, nonce: nonce.to_string(), signature };
    payments::sandbox_callback(&world.app, headers, &body).await
}

/// Each supplier of a paid order ships its part.
async fn ship(world: &mut World, rng: &mut StdRng) -> anyhow::Result<(Outcome, String)> {
    let Some((id, _)) = pick_order(world, rng, &["to_ship"]).await? else { return Ok((Outcome::Idle, String::new())) };
    let suppliers: Vec<SupplierId> = world
        .app
        .store
        .read(move |sql| {
            sql.query("SELECT DISTINCT supplier_id FROM order_items WHERE order_id = $1 ORDER BY supplier_id", params![id])?
                .iter()
                .map(|r| r.id(0))
                .collect::<Result<Vec<_>, Error>>()
        })
        .await?;
    let mut outcome = Outcome::Done;
    for supplier in suppliers {
        let user =
            world.suppliers.iter().find(|s| s.supplier_id == Some(supplier)).cloned().ok_or_else(|| anyhow::anyhow!("no supplier"))?;
        outcome = judge(orders::ship(&world.app, &user, id, "顺丰速运", "SF1234567890").await)?;
    }
    Ok((outcome, format!("order {id}: shipped")))
}

async fn operator_refund(world: &mut World, rng: &mut StdRng) -> anyhow::Result<(Outcome, String)> {
    let Some((id, _)) = pick_order(world, rng, &["to_ship", "shipped", "received", "completed"]).await? else {
        return Ok((Outcome::Idle, String::new()));
    };
    let left =
        world.app.store.read(move |sql| sql.query_i64("SELECT paid_fen - refunded_fen FROM orders WHERE id = $1", params![id])).await?;
    let amount = if rng.random_bool(0.5) || left <= 1 { left } else { rng.random_range(1..left) };
    let result = orders::refund(&world.app, &world.operator, id, amount, "模拟退款", None).await;
    Ok((judge(result)?, format!("order {id}: operator refunds {amount} fen")))
}

async fn return_request(world: &mut World, rng: &mut StdRng) -> anyhow::Result<(Outcome, String)> {
    let Some((id, buyer)) = pick_order(world, rng, &["received", "completed"]).await? else { return Ok((Outcome::Idle, String::new())) };
    let options = world.app.store.read(move |sql| after_sale_views::returnable_lines(sql, id)).await?;
    let mut lines = Vec::new();
    for line in options.iter().filter(|l| l.left > 0) {
        if lines.is_empty() || rng.random_bool(0.5) {
            lines.push((line.line_no, rng.random_range(1..=line.left)));
        }
    }
    let reason = if rng.random_bool(0.5) { "no_reason" } else { "quality" };
    let form = ReturnForm { order: id, reason: reason.into(), description: "模拟售后".into(), lines: lines.clone() };
    let result = after_sales::request(&world.app, &buyer, form, None).await;
    Ok((judge(result)?, format!("order {id}: {reason} return of {lines:?}")))
}

/// A random case in `status`.
async fn pick_case(world: &World, rng: &mut StdRng, status: &str) -> anyhow::Result<Option<AfterSale>> {
    let cases = after_sales::queue(&world.app, &world.operator, Role::Operator, Some(status), None, Some(100)).await?;
    if cases.is_empty() {
        return Ok(None);
    }
    Ok(Some(cases[rng.random_range(0..cases.len())].clone()))
}

async fn on_case<F, Fut>(world: &World, rng: &mut StdRng, status: &str, act: F) -> anyhow::Result<(Outcome, String)>
where
    F: FnOnce(Arc<App>, AfterSale, SessionUser) -> Fut,
    Fut: std::future::Future<Output = Result<AfterSale, Error>>,
{
    let Some(case) = pick_case(world, rng, status).await? else { return Ok((Outcome::Idle, String::new())) };
    let (id, buyer) = (case.id, buyer_of(world, case.customer_id)?);
    Ok((judge(act(Arc::clone(&world.app), case, buyer).await)?, format!("case {id} ({status})")))
}

async fn return_decide(world: &mut World, rng: &mut StdRng) -> anyhow::Result<(Outcome, String)> {
    let Some(case) = pick_case(world, rng, "requested").await? else { return Ok((Outcome::Idle, String::new())) };
    // The supplier answers most cases; the operator steps in for the rest.
    let handler = match world.suppliers.iter().find(|s| s.supplier_id == Some(case.supplier_id)) {
        Some(supplier) if rng.random_bool(0.7) => supplier.clone(),
        _ => world.operator.clone(),
    };
    let answer = match rng.random_range(0..10) {
        0..6 => Answer::Approve { resolution: "return_and_refund".into() },
        6..8 => Answer::Approve { resolution: "refund_only".into() },
        _ => Answer::Reject { note: "模拟拒绝".into() },
    };
    let label = format!("case {}: {answer:?} by {}", case.id, handler.display_name);
    Ok((judge(after_sales::decide(&world.app, &handler, case.id, answer).await)?, label))
}

async fn withdraw(world: &mut World, rng: &mut StdRng) -> anyhow::Result<(Outcome, String)> {
    let owner = world.owners[rng.random_range(0..world.owners.len())].clone();
    let user = owner.user_id;
    let available = world.app.store.read(move |sql| ledger::balances(sql, user)).await?.available_fen;
    let amount = rng.random_range(50..=available.max(50) + 200);
    let payee = match rng.random_range(0..10) {
        0 => "closed:6222 0000 0000 0009",
        1 => "busy:6222 0000 0000 0008",
        _ => "6222 0000 0000 0001",
    };
    let result = withdrawals::request(&world.app, &owner, amount, payee, None).await;
    if let Ok(w) = &result {
        world.withdrawals.push(w.id);
    }
    Ok((judge(result)?, format!("{} withdraws {amount} fen of {available} to {payee}", owner.display_name)))
}

async fn withdraw_decide(world: &mut World, rng: &mut StdRng) -> anyhow::Result<(Outcome, String)> {
    let waiting = withdrawals::queue(&world.app, &world.operator, Some("requested"), None, Some(100)).await?;
    if waiting.is_empty() {
        return Ok((Outcome::Idle, String::new()));
    }
    let w = &waiting[rng.random_range(0..waiting.len())];
    let decision = if rng.random_bool(0.8) { Decision::Approve } else { Decision::Reject { reason: "模拟驳回".into() } };
    let label = format!("withdrawal {}: {decision:?}", w.id);
    Ok((judge(withdrawals::decide(&world.app, &world.operator, w.id, decision).await)?, label))
}
