-- Friend bargaining (砍价, SPEC 3.6): campaigns, the bargains customers start in them, and the
-- helps that cut their price.

CREATE TABLE bargain_campaigns (
    id TEXT PRIMARY KEY,
    -- NULL: a platform campaign, open in every shop carrying the product; else that shop only.
    shop_id TEXT REFERENCES shops(id),
    sku_id TEXT NOT NULL REFERENCES skus(id),
    -- Copied from the SKU so campaigns list by product without a join.
    product_id TEXT NOT NULL REFERENCES products(id),
    start_fen INTEGER NOT NULL,
    floor_fen INTEGER NOT NULL CHECK (floor_fen > 0),
    helpers_needed INTEGER NOT NULL CHECK (helpers_needed BETWEEN 1 AND 100),
    bargain_hours INTEGER NOT NULL CHECK (bargain_hours BETWEEN 1 AND 72),
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL CHECK (ends_at > starts_at),
    stock_cap INTEGER NOT NULL CHECK (stock_cap >= 1),
    -- Units taken by bought bargains (paid or awaiting payment): never beyond the cap.
    stock_used INTEGER NOT NULL DEFAULT 0 CHECK (stock_used >= 0 AND stock_used <= stock_cap),
    buy_rule TEXT NOT NULL CHECK (buy_rule IN ('current_price', 'floor_only')),
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    -- Set when the campaign is ended early; the window's end needs no write.
    ended_at INTEGER,
    -- Every help must be able to cut at least 1 fen.
    CHECK (start_fen - floor_fen >= helpers_needed)
) STRICT;

CREATE INDEX bargain_campaigns_product ON bargain_campaigns (product_id, ends_at);
CREATE INDEX bargain_campaigns_shop ON bargain_campaigns (shop_id, ends_at);

-- A customer's bargain. The campaign's price terms are copied in (they never change), so the
-- schema itself can refuse a bargain cut past its floor or helped more than K times.
CREATE TABLE bargains (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES bargain_campaigns(id),
    -- The shop it was started in: the buy happens there, so the shop that shared it earns.
    shop_id TEXT NOT NULL REFERENCES shops(id),
    starter_id TEXT NOT NULL REFERENCES users(id),
    -- The cut sequence is `BargainTerms::cuts(seed)`; never shown to anyone.
    seed INTEGER NOT NULL,
    start_fen INTEGER NOT NULL,
    floor_fen INTEGER NOT NULL,
    helpers_needed INTEGER NOT NULL,
    helps INTEGER NOT NULL DEFAULT 0,
    current_fen INTEGER NOT NULL,
    -- running; bought (an order is placed: paid or awaiting payment); expired (written only to
    -- free the one-running slot: a running bargain past expires_at already reads as expired).
    status TEXT NOT NULL CHECK (status IN ('running', 'bought', 'expired')),
    started_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL CHECK (expires_at > started_at),
    -- The order of a bought bargain; cleared when that order is cancelled unpaid.
    order_id TEXT REFERENCES orders(id),
    CHECK (helps >= 0 AND helps <= helpers_needed),
    CHECK (current_fen >= floor_fen AND current_fen <= start_fen),
    CHECK ((status = 'bought' AND order_id IS NOT NULL) OR (status <> 'bought' AND order_id IS NULL))
) STRICT;

-- One running bargain per customer per campaign, whatever the interleaving.
CREATE UNIQUE INDEX bargains_one_running ON bargains (campaign_id, starter_id) WHERE status = 'running';
-- "My bargains", and the cancellation hook's lookup by order.
CREATE INDEX bargains_starter ON bargains (starter_id, started_at);
CREATE UNIQUE INDEX bargains_order ON bargains (order_id) WHERE order_id IS NOT NULL;

-- One row per help. The keys make the database refuse a second help by the same person and two
-- helps taking the same cut.
CREATE TABLE bargain_helps (
    bargain_id TEXT NOT NULL REFERENCES bargains(id),
    helper_id TEXT NOT NULL REFERENCES users(id),
    seq INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 100),
    cut_fen INTEGER NOT NULL CHECK (cut_fen >= 1),
    helped_at INTEGER NOT NULL,
    PRIMARY KEY (bargain_id, helper_id),
    UNIQUE (bargain_id, seq)
) STRICT;
