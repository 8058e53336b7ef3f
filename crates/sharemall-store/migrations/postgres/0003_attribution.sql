-- Attribution (SPEC 3.3): every order records the shop its customer was bound to when ordering,
-- the share that last led them to the order's shop, and whether the order was self-referred
-- (the buyer is the sharer or the owner who would earn on it), for the ledger to pay nothing on.

ALTER TABLE orders ADD COLUMN bound_shop_id TEXT REFERENCES shops(id);
ALTER TABLE orders ADD COLUMN share_code TEXT REFERENCES shares(code);
ALTER TABLE orders ADD COLUMN self_referral BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX orders_share ON orders (share_code) WHERE share_code IS NOT NULL;

-- The last-touch lookup reads a visitor's newest visits; carry-over moves them to the account.
CREATE INDEX share_visits_visitor ON share_visits (visitor, visited_at);

-- Visits are numbered, not given UUIDs: nothing refers to a visit, and a bigint key is cheaper
-- to index on the busiest insert of the platform.
ALTER TABLE share_visits DROP CONSTRAINT share_visits_pkey;
ALTER TABLE share_visits DROP COLUMN id;
ALTER TABLE share_visits ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
