//! The set-based join run decides exactly as the generic path: the same commands against twin
//! fixtures give the same result codes, seats and units, whether joined one by one or as one run
//! (SQLite; PostgreSQL joins one by one). Replays send a run back to the generic path.

use sharemall_domain::group_buy::CampaignRequest;
use sharemall_domain::{ErrorCode, GroupId, Timestamp};
use sharemall_store::model::OrderPlaced;
use sharemall_store::ops::groups;
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
        if h.kind == Kind::Sqlite {
            let run = twin.store.write(move |sql| joins_batch::join_run(sql, &commands)).await.expect("set-based run");
            assert_eq!(codes(&run), expected);
        } else {
            let mut run = Vec::new();
            for command in commands {
                run.push(twin.store.join_group(command).await);
            }
            assert_eq!(codes(&run), expected);
        }
        assert_eq!(seats(&h, &groups_a).await, seats(&twin, &groups_b).await);
        assert_eq!(
            h.count("SELECT stock_used FROM group_campaigns").await,
            twin.count("SELECT stock_used FROM group_campaigns").await
        );
        h.assert_consistent("one by one").await;
        twin.assert_consistent("as a run").await;
    }
}
