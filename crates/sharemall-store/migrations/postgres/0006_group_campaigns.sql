-- Group-buy campaigns (拼团活动, SPEC 3.5): a campaign on one SKU sets the group size, price and
-- duration, the window groups may open in, and the units it may sell in all. Groups and their
-- members come in a later migration.

CREATE TABLE group_campaigns (
    id TEXT PRIMARY KEY,
    -- NULL: a platform campaign, open to every shop carrying the product; else that shop only.
    shop_id TEXT REFERENCES shops(id),
    sku_id TEXT NOT NULL REFERENCES skus(id),
    -- Copied from the SKU so campaigns list by product without a join.
    product_id TEXT NOT NULL REFERENCES products(id),
    size BIGINT NOT NULL CHECK (size BETWEEN 2 AND 100),
    group_price_fen BIGINT NOT NULL CHECK (group_price_fen > 0),
    group_hours BIGINT NOT NULL CHECK (group_hours BETWEEN 1 AND 72),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL CHECK (ends_at > starts_at),
    stock_cap BIGINT NOT NULL CHECK (stock_cap >= size),
    -- Units sold or held by the campaign's groups: never beyond the cap.
    stock_used BIGINT NOT NULL DEFAULT 0 CHECK (stock_used >= 0 AND stock_used <= stock_cap),
    per_customer_limit BIGINT NOT NULL CHECK (per_customer_limit BETWEEN 1 AND 99),
    new_customers_only BOOLEAN NOT NULL,
    auto_complete_at BIGINT CHECK (auto_complete_at IS NULL OR (auto_complete_at >= 1 AND auto_complete_at < size)),
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    -- Set when the campaign is ended early; the window's end needs no write.
    ended_at BIGINT
);

-- Campaigns of a product (the product page) and of a shop (the shop's list): the active ones are
-- those whose window has not ended, so the window's end follows the key.
CREATE INDEX group_campaigns_product ON group_campaigns (product_id, ends_at);
CREATE INDEX group_campaigns_shop ON group_campaigns (shop_id, ends_at);
