//! A run of share visits is recorded set-based; a random script of visits (repeat visitors
//! in one run, unknown and expired codes, lapsed protections taken over, permanent bindings)
//! recorded that way gives every visit the same answer and leaves the same rows as the generic
//! path recording them one by one.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sharemall_domain::account::Role;
use sharemall_domain::share::{BindingPolicy, Channel, ShareCode};
use sharemall_domain::{Error, ErrorCode, Timestamp};
use sharemall_store::ops::shares::{self, NewShare, ShareTarget, Visit, VisitCommand};
use sharemall_store::ops::visits_batch;
use sharemall_store::params;
use std::collections::HashMap;

use crate::harness::*;

/// Three shops with a live share each and one share that expires early; labels for every id.
struct World {
    prefix: String,
    codes: Vec<ShareCode>,
    labels: HashMap<String, String>,
}

/// The early share's expiry.
const EXPIRES: i64 = 40_000;

impl World {
    async fn build(h: &Harness, prefix: String) -> World {
        let mut codes = Vec::new();
        let mut labels = HashMap::new();
        for i in 0..4 {
            let shop = h.shop(&[]).await;
            let sharer = h.user(Role::Customer).await;
            let code = ShareCode::from_random(rand::random());
            let new = NewShare {
                code: code.clone(),
                target: ShareTarget::Shop,
                shop,
                sharer,
                parent: None,
                channel: Channel::Chat,
                expires_at: (i == 3).then(|| T0.plus_ms(EXPIRES)),
            };
            h.store.write(move |sql| shares::create_share(sql, T0, &new)).await.expect("share");
            labels.insert(shop.to_string(), format!("shop{i}"));
            labels.insert(sharer.to_string(), format!("sharer{i}"));
            labels.insert(code.as_str().to_string(), format!("share{i}"));
            codes.push(code);
        }
        World { prefix, codes, labels }
    }

    fn command(&self, step: &Step) -> VisitCommand {
        let code = step.share.map_or_else(|| ShareCode::from_random([7; 16]), |i| self.codes[i].clone());
        VisitCommand {
            now: step.now,
            code,
            visitor: format!("a:{}{}", self.prefix, step.visitor),
            device: "phone".into(),
            policy: step.policy,
        }
    }

    fn label(&self, text: &str) -> String {
        self.labels.get(text).cloned().unwrap_or_else(|| text.replace(&self.prefix, ""))
    }

    fn outcome(&self, result: &Result<Visit, Error>) -> Result<String, ErrorCode> {
        match result {
            Ok(v) => Ok(format!("{}/{}/{}", self.label(&v.share.code), self.label(&v.bound_shop.to_string()), v.bound_now)),
            Err(e) => Err(e.code),
        }
    }

    /// This world's visits and bindings, labelled, in id order for visits.
    async fn snapshot(&self, h: &Harness) -> Vec<String> {
        let pattern = format!("a:{}%", self.prefix);
        let rows = h
            .store
            .read(move |sql| {
                let mut out = Vec::new();
                let visits = sql.query(
                    "SELECT code, visitor, device, visited_at, bound FROM share_visits WHERE visitor LIKE $1 ORDER BY id",
                    params![pattern.as_str()],
                )?;
                for row in visits {
                    out.push(format!("visit {} {} {} {} {}", row.text(0)?, row.text(1)?, row.text(2)?, row.i64(3)?, row.bool(4)?));
                }
                for row in sql.query(
                    "SELECT visitor, shop_id, share_code, bound_at, protected_until FROM customer_bindings WHERE visitor LIKE $1 ORDER BY visitor",
                    params![pattern.as_str()],
                )? {
                    let until = row.opt_i64(4)?.map_or_else(|| "permanent".to_string(), |t| t.to_string());
                    out.push(format!("binding {} {} {} {} {until}", row.text(0)?, row.text(1)?, row.text(2)?, row.i64(3)?));
                }
                Ok(out)
            })
            .await
            .expect("snapshot");
        rows.iter().map(|row| row.split(' ').map(|part| self.label(part)).collect::<Vec<_>>().join(" ")).collect()
    }
}

#[derive(Debug, Clone)]
struct Step {
    visitor: usize,
    /// `None`: a code that does not exist.
    share: Option<usize>,
    policy: BindingPolicy,
    now: Timestamp,
}

/// Visits in runs: a small pool of visitors (so runs repeat visitors), protection short enough
/// to lapse within the script, now and then permanent.
fn script(seed: u64, runs: usize) -> Vec<Vec<Step>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut at = 0;
    (0..runs)
        .map(|_| {
            at += rng.random_range(1_000..6_000);
            (0..rng.random_range(1..24))
                .map(|_| Step {
                    visitor: rng.random_range(0..30),
                    share: if rng.random_range(0..100) < 5 { None } else { Some(rng.random_range(0..4)) },
                    policy: match rng.random_range(0..100) {
                        0..10 => BindingPolicy::Permanent,
                        _ => BindingPolicy::Protected { protection_ms: 20_000 },
                    },
                    now: T0.plus_ms(at),
                })
                .collect()
        })
        .collect()
}

backend_test! {
    async fn visit_runs_record_like_the_generic_path(h: Harness) {
        check_seeds(&h).await;
    }
}

/// Six seeds of 60 runs each, in one database (each seed's worlds are new shops and shares).
async fn check_seeds(h: &Harness) {
    for seed in 0..6 {
        // Prefixes per seed: each seed's visitors are new, as in a fresh database.
        let generic = World::build(h, format!("G{seed}-")).await;
        let batched = World::build(h, format!("B{seed}-")).await;
        let runs = script(seed, 60);
        let (mut expected, mut actual) = (Vec::new(), Vec::new());
        for run in &runs {
            for step in run {
                let visit = generic.command(step);
                let result = h.store.write(move |sql| shares::record_visit(sql, &visit)).await;
                expected.push(generic.outcome(&result));
            }
            let commands: Vec<VisitCommand> = run.iter().map(|s| batched.command(s)).collect();
            let results = h.store.write(move |sql| visits_batch::record_run(sql, &commands)).await.expect("the run records");
            actual.extend(results.iter().map(|r| batched.outcome(r)));
        }
        let steps: Vec<&Step> = runs.iter().flatten().collect();
        let bound = expected.iter().filter(|r| r.as_ref().is_ok_and(|s| s.ends_with("true"))).count();
        let refused = expected.iter().filter(|r| r.is_err()).count();
        assert!(bound > 30 && refused > 5, "seed {seed}: the script should bind, rebind and refuse ({bound}, {refused})");
        for (i, (e, a)) in expected.iter().zip(&actual).enumerate() {
            assert_eq!(e, a, "seed {seed} visit {i}: {:?}", steps[i]);
        }
        assert_eq!(generic.snapshot(h).await, batched.snapshot(h).await, "seed {seed}");
    }
}
