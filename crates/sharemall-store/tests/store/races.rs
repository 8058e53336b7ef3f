//! T1: concurrent orders never oversell a SKU.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sharemall_domain::{ErrorCode, SkuId};

use crate::harness::*;

/// Spawns the commands in a seed-shuffled order, each after a seed-chosen number of yields, and
/// returns the results in command order.
pub async fn race<T, F, Fut>(seed: u64, count: usize, make: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut rng);
    let mut handles = Vec::with_capacity(count);
    for i in order {
        let yields = rng.random_range(0..4);
        let fut = make(i);
        handles.push((
            i,
            tokio::spawn(async move {
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                }
                fut.await
            }),
        ));
    }
    let mut results: Vec<Option<T>> = (0..count).map(|_| None).collect();
    for (i, handle) in handles {
        results[i] = Some(handle.await.expect("task panicked"));
    }
    results.into_iter().map(|r| r.expect("every result")).collect()
}

backend_test! {
    /// 200 concurrent single-unit orders race for 50 units: exactly 50 win.
    async fn t1_no_oversell(h: Harness) {
        for seed in 0..h.seeds(20, 5) {
            let fx = h.fixture(1, 2_000, 50, 20).await;
            let sku = fx.skus[0];
            let results = race(seed, 200, |i| {
                let (store, cmd) = (h.store.clone(), fx.order(fx.customers[i % fx.customers.len()], vec![(sku, 1)], order_no("T1", i)));
                async move { store.place_order(T0, cmd, None).await }
            })
            .await;
            let ok = results.iter().filter(|r| r.is_ok()).count();
            let out_of_stock = results.iter().filter(|r| code(r) == Some(ErrorCode::OutOfStock)).count();
            let other: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).filter(|e| e.code != ErrorCode::OutOfStock).collect();
            assert!(other.is_empty(), "[{:?}] seed {seed}: unexpected errors {other:?}", h.kind);
            assert_eq!((ok, out_of_stock), (50, 150), "[{:?}] seed {seed}", h.kind);
            assert_eq!(h.stock(sku).await, (0, 50, 0), "[{:?}] seed {seed}", h.kind);
            for placed in results.iter().flatten() {
                assert_eq!((placed.status.as_str(), placed.payable_fen), ("created", 2_000 + 800), "[{:?}] seed {seed}", h.kind);
            }
            h.assert_consistent(&format!("t1 seed {seed}")).await;
        }
    }
}

backend_test! {
    /// Orders of several SKUs (routed by their first SKU on PostgreSQL, so they lock rows owned
    /// by other shards) race for little stock: no SKU oversells, no deadlock, and what was
    /// reserved is exactly what the accepted orders hold.
    async fn t1_multi_sku_no_oversell(h: Harness) {
        for seed in 0..h.seeds(5, 3) {
            let fx = h.fixture(4, 1_500, 40, 10).await;
            let mut rng = StdRng::seed_from_u64(1_000 + seed);
            let orders: Vec<Vec<(SkuId, i64)>> = (0..150)
                .map(|_| {
                    let mut skus = fx.skus.clone();
                    skus.shuffle(&mut rng);
                    let n = rng.random_range(1..=3);
                    skus.into_iter().take(n).map(|s| (s, rng.random_range(1..=3))).collect()
                })
                .collect();
            let results = race(seed, orders.len(), |i| {
                let (store, cmd) = (h.store.clone(), fx.order(fx.customers[i % fx.customers.len()], orders[i].clone(), order_no("T1M", i)));
                async move { store.place_order(T0, cmd, None).await }
            })
            .await;
            let other: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).filter(|e| e.code != ErrorCode::OutOfStock).collect();
            assert!(other.is_empty(), "[{:?}] seed {seed}: unexpected errors {other:?}", h.kind);
            let ok = results.iter().filter(|r| r.is_ok()).count();
            assert!(ok > 0, "[{:?}] seed {seed}: nothing was accepted", h.kind);
            for sku in &fx.skus {
                let wanted: i64 = results.iter().zip(&orders).filter(|(r, _)| r.is_ok()).flat_map(|(_, lines)| lines.iter()).filter(|(s, _)| s == sku).map(|(_, q)| q).sum();
                let (available, reserved, sold) = h.stock(*sku).await;
                assert_eq!((available + reserved, reserved, sold), (40, wanted, 0), "[{:?}] seed {seed}", h.kind);
            }
            // A refused order must have been refused for a reason: some SKU lacked stock after
            // the accepted ones took theirs. (Weak, but it catches a writer refusing at random.)
            let left: Vec<i64> = {
                let mut left = Vec::new();
                for sku in &fx.skus {
                    left.push(h.stock(*sku).await.0);
                }
                left
            };
            for (result, lines) in results.iter().zip(&orders) {
                if result.is_err() {
                    let fits = lines.iter().all(|(s, q)| fx.skus.iter().position(|x| x == s).is_some_and(|k| left[k] >= *q));
                    assert!(!fits, "[{:?}] seed {seed}: an order that fits the remaining stock was refused", h.kind);
                }
            }
            h.assert_consistent(&format!("t1 multi seed {seed}")).await;
        }
    }
}
