//! Embedded, per-backend migrations. Each file runs once, in its own transaction, recorded in
//! `schema_migrations`. No advisory locks: distributed PostgreSQL engines lack them, and a
//! concurrent runner loses the race on the `schema_migrations` primary key and rolls back.

use sharemall_domain::Error;

use crate::sql::{Backend, Sql};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "shares",
        sqlite: include_str!("../migrations/sqlite/0002_shares.sql"),
        postgres: include_str!("../migrations/postgres/0002_shares.sql"),
    },
    Migration {
        version: 3,
        name: "attribution",
        sqlite: include_str!("../migrations/sqlite/0003_attribution.sql"),
        postgres: include_str!("../migrations/postgres/0003_attribution.sql"),
    },
    Migration {
        version: 4,
        name: "share_stats",
        sqlite: include_str!("../migrations/sqlite/0004_share_stats.sql"),
        postgres: include_str!("../migrations/postgres/0004_share_stats.sql"),
    },
    Migration {
        version: 5,
        name: "parcel_cards",
        sqlite: include_str!("../migrations/sqlite/0005_parcel_cards.sql"),
        postgres: include_str!("../migrations/postgres/0005_parcel_cards.sql"),
    },
    Migration {
        version: 6,
        name: "group_campaigns",
        sqlite: include_str!("../migrations/sqlite/0006_group_campaigns.sql"),
        postgres: include_str!("../migrations/postgres/0006_group_campaigns.sql"),
    },
    Migration {
        version: 7,
        name: "groups",
        sqlite: include_str!("../migrations/sqlite/0007_groups.sql"),
        postgres: include_str!("../migrations/postgres/0007_groups.sql"),
    },
    Migration {
        version: 8,
        name: "bargains",
        sqlite: include_str!("../migrations/sqlite/0008_bargains.sql"),
        postgres: include_str!("../migrations/postgres/0008_bargains.sql"),
    },
    Migration {
        version: 9,
        name: "bargain_shares",
        sqlite: include_str!("../migrations/sqlite/0009_bargain_shares.sql"),
        postgres: include_str!("../migrations/postgres/0009_bargain_shares.sql"),
    },
    Migration {
        version: 10,
        name: "group_seats",
        sqlite: include_str!("../migrations/sqlite/0010_group_seats.sql"),
        postgres: include_str!("../migrations/postgres/0010_group_seats.sql"),
    },
    Migration {
        version: 11,
        name: "ledger",
        sqlite: include_str!("../migrations/sqlite/0011_ledger.sql"),
        postgres: include_str!("../migrations/postgres/0011_ledger.sql"),
    },
    Migration {
        version: 12,
        name: "after_sales",
        sqlite: include_str!("../migrations/sqlite/0012_after_sales.sql"),
        postgres: include_str!("../migrations/postgres/0012_after_sales.sql"),
    },
];

/// Applies every migration not yet applied; returns how many ran.
pub fn migrate(sql: &mut dyn Sql, now_ms: i64) -> Result<usize, Error> {
    sql.batch("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)")?;
    let mut applied = 0;
    for migration in MIGRATIONS {
        let done = sql.query_i64("SELECT COUNT(*) FROM schema_migrations WHERE version = $1", crate::params![migration.version])?;
        if done > 0 {
            continue;
        }
        let body = match sql.backend() {
            Backend::Sqlite => migration.sqlite,
            Backend::Postgres => migration.postgres,
        };
        sql.batch("BEGIN")?;
        let result = sql.batch(body).and_then(|()| {
            sql.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                crate::params![migration.version, migration.name, now_ms],
            )
        });
        match result {
            Ok(_) => sql.batch("COMMIT")?,
            Err(e) => {
                let _ = sql.batch("ROLLBACK");
                return Err(e);
            }
        }
        applied += 1;
    }
    Ok(applied)
}

/// The latest migration version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}
