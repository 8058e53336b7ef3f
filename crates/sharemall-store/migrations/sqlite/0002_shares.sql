-- Shares (SPEC 3.3): unguessable codes, visits through them, and the customer binding they create.

CREATE TABLE shares (
    code TEXT PRIMARY KEY,
    -- An open set: 'product' and 'shop' now; groups, bargains, coupons and memberships as they come.
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    sharer_id TEXT NOT NULL REFERENCES users(id),
    -- The share through which the sharer arrived: the edge of the fission tree.
    parent_code TEXT REFERENCES shares(code),
    channel TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
) STRICT;
CREATE INDEX shares_sharer ON shares (sharer_id, created_at);
CREATE INDEX shares_shop ON shares (shop_id, created_at);
CREATE INDEX shares_parent ON shares (parent_code);

CREATE TABLE share_visits (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL REFERENCES shares(code),
    -- 'u:<user id>' for a signed-in visitor, 'a:<cookie id>' for an anonymous one.
    visitor TEXT NOT NULL,
    device TEXT NOT NULL,
    visited_at INTEGER NOT NULL
) STRICT;
CREATE INDEX share_visits_code ON share_visits (code, visited_at);

-- 客户关系绑定: the shop a visitor belongs to, set by their first share visit. One row per
-- visitor, so two shares visited at the same instant can never bind twice.
CREATE TABLE customer_bindings (
    visitor TEXT PRIMARY KEY,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    share_code TEXT NOT NULL REFERENCES shares(code),
    bound_at INTEGER NOT NULL,
    -- NULL: bound for good (the operator's "permanent" mode).
    protected_until INTEGER
) STRICT;
CREATE INDEX customer_bindings_shop ON customer_bindings (shop_id, bound_at);
