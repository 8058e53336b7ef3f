-- Attribution (SPEC 3.3): every order records the shop its customer was bound to when ordering,
-- the share that last led them to the order's shop, and whether the order was self-referred
-- (the buyer is the sharer or the owner who would earn on it), for the ledger to pay nothing on.

ALTER TABLE orders ADD COLUMN bound_shop_id TEXT REFERENCES shops(id);
ALTER TABLE orders ADD COLUMN share_code TEXT REFERENCES shares(code);
ALTER TABLE orders ADD COLUMN self_referral INTEGER NOT NULL DEFAULT 0 CHECK (self_referral IN (0, 1));
CREATE INDEX orders_share ON orders (share_code) WHERE share_code IS NOT NULL;


-- Visits are numbered, not given UUIDs: nothing refers to a visit, and an integer key is the
-- table itself (no second index to write on the busiest insert of the platform).
CREATE TABLE share_visits_numbered (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL REFERENCES shares(code),
    visitor TEXT NOT NULL,
    device TEXT NOT NULL,
    visited_at INTEGER NOT NULL
) STRICT;
INSERT INTO share_visits_numbered (code, visitor, device, visited_at) SELECT code, visitor, device, visited_at FROM share_visits ORDER BY visited_at, id;
DROP TABLE share_visits;
ALTER TABLE share_visits_numbered RENAME TO share_visits;
CREATE INDEX share_visits_code ON share_visits (code, visited_at);
-- The last-touch lookup reads a visitor's newest visits; carry-over moves them to the account.
CREATE INDEX share_visits_visitor ON share_visits (visitor, visited_at);
