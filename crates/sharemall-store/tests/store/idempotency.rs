//! T6 at store level: an order sent several times with one Idempotency-Key is placed once.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sharemall_domain::{ErrorCode, UserId};
use sharemall_store::ops::idempotency::IdempotencyKey;

use crate::harness::*;

fn key(user: UserId, i: usize, hash: &str) -> IdempotencyKey {
    IdempotencyKey { user, key: format!("key-{i}"), request_hash: hash.to_string() }
}

backend_test! {
    /// 200 orders, each sent 5 times concurrently with the same key: 200 orders exist, every
    /// replay returns the first answer, and the key with another request is refused.
    async fn t6_idempotent_place_order(h: Harness) {
        let fx = h.fixture(2, 1_000, 10_000, 20).await;
        let logical: Vec<_> = (0..200)
            .map(|i| {
                let customer = fx.customers[i % fx.customers.len()];
                let cmd = fx.order(customer, vec![(fx.skus[i % 2], 1 + (i % 3) as i64)], order_no("T6", i));
                (cmd, key(customer, i, &format!("hash-{i}")))
            })
            .collect();
        let mut sends: Vec<usize> = (0..1_000).map(|n| n % 200).collect();
        sends.shuffle(&mut StdRng::seed_from_u64(6));
        let mut handles = Vec::new();
        for i in sends {
            let (store, (cmd, key)) = (h.store.clone(), logical[i].clone());
            handles.push((i, tokio::spawn(async move { store.place_order(T0, cmd, Some(key)).await })));
        }
        let mut answers: Vec<Vec<String>> = vec![Vec::new(); 200];
        for (i, handle) in handles {
            let placed = handle.await.expect("task").unwrap_or_else(|e| panic!("[{:?}] order {i}: {e}", h.kind));
            answers[i].push(serde_json::to_string(&placed).expect("json"));
        }
        for (i, replies) in answers.iter().enumerate() {
            assert_eq!(replies.len(), 5);
            assert!(replies.iter().all(|r| r == &replies[0]), "[{:?}] order {i}: replays differ: {replies:#?}", h.kind);
        }
        let orders = h.count("SELECT COUNT(*) FROM orders").await;
        assert_eq!(orders, 200, "[{:?}]", h.kind);
        assert_eq!(h.count("SELECT COUNT(*) FROM orders WHERE idem_key IS NOT NULL").await, 200, "[{:?}]", h.kind);
        assert_eq!(h.count("SELECT COUNT(*) FROM jobs").await, 200, "[{:?}]", h.kind);
        let reserved: i64 = (0..200).map(|i| 1 + (i % 3) as i64).sum();
        let (a, b) = (h.stock(fx.skus[0]).await, h.stock(fx.skus[1]).await);
        assert_eq!(a.1 + b.1, reserved, "[{:?}]", h.kind);

        // A later replay still answers the same; the key with another request is refused.
        let (cmd, k) = logical[7].clone();
        let again = h.store.place_order(T0, cmd.clone(), Some(k.clone())).await.expect("replay");
        assert_eq!(serde_json::to_string(&again).expect("json"), answers[7][0]);
        let other = IdempotencyKey { request_hash: "another-request".into(), ..k.clone() };
        let reused = h.store.place_order(T0, cmd, Some(other)).await;
        assert_eq!(code(&reused), Some(ErrorCode::IdempotencyKeyReused), "[{:?}]", h.kind);
        // The same key string of another user is another key.
        let stranger = IdempotencyKey { user: fx.customers[(7 + 1) % fx.customers.len()], ..k };
        let fresh = fx.order(stranger.user, vec![(fx.skus[0], 1)], order_no("T6X", 0));
        h.store.place_order(T0, fresh, Some(stranger)).await.expect("another user's key");
        assert_eq!(h.count("SELECT COUNT(*) FROM orders").await, 201, "[{:?}]", h.kind);
        h.assert_consistent("t6").await;
    }
}

backend_test! {
    /// Two different requests under one key, sent concurrently (to different SKUs, so possibly
    /// different PostgreSQL shards): exactly one is placed, the other is refused as a reused key.
    async fn t6_same_key_different_requests(h: Harness) {
        let fx = h.fixture(4, 1_000, 10_000, 10).await;
        let mut rng = StdRng::seed_from_u64(66);
        let mut handles = Vec::new();
        for i in 0..60 {
            let customer = fx.customers[i % fx.customers.len()];
            let first = rng.random_range(0..4);
            let second = (first + rng.random_range(1..4)) % 4;
            for (variant, sku) in [(0, first), (1, second)] {
                let cmd = fx.order(customer, vec![(fx.skus[sku], 1)], order_no(&format!("T6D{variant}-"), i));
                let (store, key) = (h.store.clone(), key(customer, i, &format!("hash-{i}-{variant}")));
                handles.push((i, tokio::spawn(async move { store.place_order(T0, cmd, Some(key)).await })));
            }
        }
        let mut outcomes = vec![(0, 0); 60];
        for (i, handle) in handles {
            match handle.await.expect("task") {
                Ok(_) => outcomes[i].0 += 1,
                Err(e) if e.code == ErrorCode::IdempotencyKeyReused => outcomes[i].1 += 1,
                Err(e) => panic!("[{:?}] key {i}: {e}", h.kind),
            }
        }
        assert!(outcomes.iter().all(|o| *o == (1, 1)), "[{:?}] {outcomes:?}", h.kind);
        assert_eq!(h.count("SELECT COUNT(*) FROM orders").await, 60, "[{:?}]", h.kind);
        h.assert_consistent("t6 different requests").await;
    }
}

backend_test! {
    /// A failed command saves nothing under its key: retried once stock is back, it succeeds.
    async fn t6_failure_is_not_saved(h: Harness) {
        let fx = h.fixture(1, 1_000, 1, 2).await;
        let k = key(fx.customers[0], 1, "hash");
        let cmd = fx.order(fx.customers[0], vec![(fx.skus[0], 2)], order_no("T6F", 0));
        let refused = h.store.place_order(T0, cmd.clone(), Some(k.clone())).await;
        assert_eq!(code(&refused), Some(ErrorCode::OutOfStock), "[{:?}]", h.kind);
        let (supplier, sku) = (fx.supplier, fx.skus[0]);
        h.store.write(move |sql| sharemall_store::ops::catalog::restock(sql, supplier, sku, 5)).await.expect("restock");
        let placed = h.store.place_order(T0, cmd.clone(), Some(k.clone())).await.expect("placed after restock");
        let replay = h.store.place_order(T0, cmd, Some(k)).await.expect("replay");
        assert_eq!(placed.order_id, replay.order_id);
        assert_eq!(h.stock(sku).await, (4, 2, 0), "[{:?}]", h.kind);
        h.assert_consistent("t6 failure").await;
    }
}
