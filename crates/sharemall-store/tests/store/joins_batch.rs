//! The set-based join run decides exactly as the generic path: the same commands against twin
//! fixtures give the same result codes, seats and units, whether joined one by one or as one run,
//! on either backend. Replays send a run back to the generic path, and the writer undoes the run
//! first, whether it opened its batch's transaction or followed others.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};

use sharemall_domain::group_buy::CampaignRequest;
use sharemall_domain::{Error, ErrorCode, GroupId, Timestamp};
use sharemall_store::model::OrderPlaced;
use sharemall_store::ops::groups;
use sharemall_store::ops::idempotency::IdempotencyKey;
use sharemall_store::ops::joins_batch::{self, JoinCommand};

use crate::groups::*;
use crate::harness::*;

/// Opens four groups of 3 (two leaders, who pay) and returns the commands of the script: who joins
/// which group (index 4: a group that does not exist) and when.
async fn script(h: &Harness) -> (Vec<JoinCommand>, Vec<GroupId>) {
    let fx = h.fixture(1, 10_000, 1_000, 9).await;
    let c = campaign(h, &fx, CampaignRequest { per_customer_limit: 2, ..campaign_request(3) }).await;
    let mut groups_opened = Vec::new();
    for leader in [7, 8, 7, 8] {
        groups_opened.push(opened(h, T0, &fx, c, fx.customers[leader]).await);
    }
    let late = T0.plus_ms(GROUP_MS);
    let steps: [(usize, usize, Timestamp); 11] = [
        (1, 0, T0),
        (2, 0, T0),
        (3, 0, T0),   // full
        (1, 0, T0),   // already in it
        (1, 1, T0),   // second unit
        (1, 2, T0),   // over the limit of 2
        (4, 4, T0),   // no such group
        (5, 3, late), // closed
        (2, 1, T0),   // fills group 1
        (3, 1, T0),   // full
        (6, 2, T0),
    ];
    let commands = steps
        .iter()
        .enumerate()
        .map(|(i, (customer, group, now))| {
            let mut order = group_order(fx.customers[*customer], 1);
            order.order_no = order_no("JB", i);
            JoinCommand { now: *now, group: groups_opened.get(*group).copied().unwrap_or_else(GroupId::new), order, key: None }
        })
        .collect();
    (commands, groups_opened)
}

fn codes(results: &[Result<OrderPlaced, sharemall_domain::Error>]) -> Vec<Option<ErrorCode>> {
    results.iter().map(code).collect()
}

async fn seats(h: &Harness, groups: &[GroupId]) -> Vec<(i64, i64)> {
    let mut all = Vec::new();
    for group in groups {
        let d = detail(h, T0, *group).await;
        all.push((d.paid, d.held));
    }
    all
}

backend_test! {
    async fn a_run_of_joins_decides_as_joining_one_by_one(h: Harness) {
        let (commands, groups_a) = script(&h).await;
        let one_by_one = h
            .store
            .write(move |sql| Ok(commands.iter().map(|c| groups::join_group(sql, c.now, c.group, &c.order, c.key.as_ref())).collect::<Vec<_>>()))
            .await
            .expect("generic joins");
        let twin = Harness::open(h.kind).await;
        let (commands, groups_b) = script(&twin).await;
        let expected = vec![
            None,
            None,
            Some(ErrorCode::GroupFull),
            Some(ErrorCode::AlreadyInGroup),
            None,
            Some(ErrorCode::CampaignLimitReached),
            Some(ErrorCode::NotFound),
            Some(ErrorCode::GroupExpired),
            None,
            Some(ErrorCode::GroupFull),
            None,
        ];
        assert_eq!(codes(&one_by_one), expected);
        let run = twin.store.write(move |sql| joins_batch::join_run(sql, &commands)).await.expect("set-based run");
        assert_eq!(codes(&run), expected);
        assert_eq!(seats(&h, &groups_a).await, seats(&twin, &groups_b).await);
        assert_eq!(
            h.count("SELECT stock_used FROM group_campaigns").await,
            twin.count("SELECT stock_used FROM group_campaigns").await
        );
        h.assert_consistent("one by one").await;
        twin.assert_consistent("as a run").await;
    }
}

/// Three ways for a join run to fail and fall back to the generic path.
#[derive(Clone, Copy, Debug)]
enum Failing {
    /// Every command carries an Idempotency-Key and the first join is replayed at the end: the
    /// run fails before it writes anything.
    Replay,
    /// As `Replay`, but the first join is committed in a batch of its own before the run, so
    /// the run's key check finds the key on an order rather than twice in the run.
    ReplayOfAnEarlierBatch,
    /// One join reuses the first join's order number: the run fails after writing its orders.
    ClashingOrderNumber,
}

async fn failing_script(h: &Harness, failing: Failing) -> (Vec<JoinCommand>, Vec<GroupId>) {
    let (mut commands, groups) = script(h).await;
    match failing {
        Failing::Replay | Failing::ReplayOfAnEarlierBatch => {
            for (i, command) in commands.iter_mut().enumerate() {
                let user = command.order.customer;
                command.key = Some(IdempotencyKey { user, key: format!("join-{i}"), request_hash: format!("request-{i}") });
            }
            commands.push(commands[0].clone());
        }
        Failing::ClashingOrderNumber => commands[8].order.order_no = commands[0].order.order_no.clone(),
    }
    (commands, groups)
}

type Joining<'a> = Pin<Box<dyn Future<Output = Result<OrderPlaced, Error>> + Send + 'a>>;

/// Sends `commands` to the writer so that they land in one batch: a first command holds the
/// writer until every one of them is queued. With `lead_by_closure`, the first join goes as a
/// closure on the generic path, so the join run that follows it is not the batch's first work.
async fn joined_in_one_batch(h: &Harness, commands: Vec<JoinCommand>, lead_by_closure: bool) -> Vec<Result<OrderPlaced, Error>> {
    let (running, gate_runs) = tokio::sync::oneshot::channel();
    let (open_gate, gate) = std::sync::mpsc::channel::<()>();
    let mut holding = Box::pin(h.store.write(move |_| {
        let _ = running.send(());
        let _ = gate.recv();
        Ok(())
    }));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(holding.as_mut().poll(&mut cx).is_pending(), "the gate is queued");
    gate_runs.await.expect("the writer runs the gate");
    let commits = h.store.writer_stats().0;
    let mut queued: Vec<Joining<'_>> = Vec::new();
    for (i, command) in commands.into_iter().enumerate() {
        let mut joining: Joining<'_> = if i == 0 && lead_by_closure {
            let store = &h.store;
            Box::pin(async move {
                store
                    .write(move |sql| Ok(groups::join_group(sql, command.now, command.group, &command.order, command.key.as_ref())))
                    .await?
            })
        } else {
            Box::pin(h.store.join_group(command))
        };
        // One poll sends the command to the writer's queue, in order; the writer is held.
        assert!(joining.as_mut().poll(&mut cx).is_pending(), "command {i} waits behind the gate");
        queued.push(joining);
    }
    open_gate.send(()).expect("the gate is still waiting");
    holding.await.expect("the gate commits");
    let mut results = Vec::new();
    for joining in queued {
        results.push(joining.await);
    }
    assert_eq!(h.store.writer_stats().0 - commits, 2, "the gate's batch and one batch of every join");
    results
}

backend_test! {
    async fn a_failed_run_is_undone_and_joined_one_by_one_wherever_it_stands_in_its_batch(h: Harness) {
        for failing in [Failing::Replay, Failing::ReplayOfAnEarlierBatch, Failing::ClashingOrderNumber] {
            let reference = Harness::open(h.kind).await;
            let (commands, groups_reference) = failing_script(&reference, failing).await;
            // The definition: each join a command of its own on the generic path.
            let mut expected = Vec::new();
            for c in commands {
                expected.push(reference.store.write(move |sql| groups::join_group(sql, c.now, c.group, &c.order, c.key.as_ref())).await);
            }
            match failing {
                Failing::Replay | Failing::ReplayOfAnEarlierBatch => {
                    let first = expected[0].as_ref().expect("the first join").order_id;
                    assert_eq!(expected[11].as_ref().expect("the replay").order_id, first, "the replay answers with the first order");
                }
                Failing::ClashingOrderNumber => assert!(expected[8].is_err(), "an order number is placed once"),
            }
            for lead_by_closure in [false, true] {
                let context = format!("{failing:?}, {}", if lead_by_closure { "after a closure" } else { "opening the batch" });
                let twin = Harness::open(h.kind).await;
                let (mut commands, groups_twin) = failing_script(&twin, failing).await;
                let mut results = Vec::new();
                if let Failing::ReplayOfAnEarlierBatch = failing {
                    results.push(twin.store.join_group(commands.remove(0)).await);
                }
                results.extend(joined_in_one_batch(&twin, commands, lead_by_closure).await);
                assert_eq!(codes(&results), codes(&expected), "{context}");
                if let Failing::Replay | Failing::ReplayOfAnEarlierBatch = failing {
                    let (first, replay) = (results[0].as_ref().map(|o| o.order_id), results[11].as_ref().map(|o| o.order_id));
                    assert_eq!(replay.ok(), first.ok(), "{context}: the replay answers with the first order");
                }
                assert_eq!(seats(&reference, &groups_reference).await, seats(&twin, &groups_twin).await, "{context}");
                for count in ["SELECT stock_used FROM group_campaigns", "SELECT COUNT(*) FROM orders", "SELECT COUNT(*) FROM buy_group_members"] {
                    assert_eq!(reference.count(count).await, twin.count(count).await, "{context}: {count}");
                }
                twin.assert_consistent(&context).await;
            }
        }
    }
}
