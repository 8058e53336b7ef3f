-- Foundation schema: accounts, catalogue, shops, orders, payments, jobs.
-- Ids are UUID text; amounts are INTEGER fen; times are INTEGER Unix milliseconds (UTC).
-- SQLite twin of the PostgreSQL schema: STRICT tables, so column types are enforced as there.
-- These tables keep their rowid, and a UUID text key costs a second B-tree (its index) per
-- insert: as WITHOUT ROWID tables, clustered on the key, rows of several hundred bytes made
-- inserts slower (docs/BENCHMARKS.md). The ledger's narrow tables (0011) are WITHOUT ROWID.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('operator', 'supplier', 'shop_owner', 'customer')),
    PRIMARY KEY (user_id, role)
) STRICT;

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL CHECK (kind IN ('cookie', 'bearer')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE suppliers (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL UNIQUE REFERENCES users(id),
    name TEXT NOT NULL,
    contact TEXT NOT NULL,
    approval TEXT NOT NULL CHECK (approval IN ('pending', 'approved', 'rejected')),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    supplier_id TEXT NOT NULL REFERENCES suppliers(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    category TEXT NOT NULL,
    image_hue INTEGER NOT NULL,
    approval TEXT NOT NULL CHECK (approval IN ('pending', 'approved', 'rejected')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX products_supplier ON products (supplier_id);
CREATE INDEX products_approval ON products (approval, created_at);

-- One stock pool per SKU shared by every shop. Conservation, checked by `sharemall check`:
-- stock_total = stock_available + stock_reserved + stock_sold, all never negative.
CREATE TABLE skus (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    attributes TEXT NOT NULL,
    supply_fen INTEGER NOT NULL CHECK (supply_fen > 0),
    retail_fen INTEGER NOT NULL CHECK (retail_fen >= supply_fen),
    commission_bps INTEGER NOT NULL CHECK (commission_bps BETWEEN 0 AND 3000),
    returnable INTEGER NOT NULL,
    stock_total INTEGER NOT NULL CHECK (stock_total >= 0),
    stock_available INTEGER NOT NULL CHECK (stock_available >= 0),
    stock_reserved INTEGER NOT NULL CHECK (stock_reserved >= 0),
    stock_sold INTEGER NOT NULL CHECK (stock_sold >= 0),
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX skus_product ON skus (product_id);

CREATE TABLE shops (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL UNIQUE REFERENCES users(id),
    name TEXT NOT NULL,
    intro TEXT NOT NULL,
    registration TEXT,
    opening_charge_fen INTEGER NOT NULL DEFAULT 0 CHECK (opening_charge_fen = 0),
    opened_at INTEGER NOT NULL
) STRICT;

CREATE TABLE shop_products (
    shop_id TEXT NOT NULL REFERENCES shops(id),
    product_id TEXT NOT NULL REFERENCES products(id),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, product_id)
) STRICT;

CREATE TABLE cart_items (
    user_id TEXT NOT NULL REFERENCES users(id),
    shop_id TEXT NOT NULL REFERENCES shops(id),
    sku_id TEXT NOT NULL REFERENCES skus(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, shop_id, sku_id)
) STRICT;

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    order_no TEXT NOT NULL UNIQUE,
    shop_id TEXT NOT NULL REFERENCES shops(id),
    customer_id TEXT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL,
    base_fen INTEGER NOT NULL,
    activity_discount_fen INTEGER NOT NULL,
    member_discount_fen INTEGER NOT NULL,
    coupon_discount_fen INTEGER NOT NULL,
    goods_fen INTEGER NOT NULL,
    shipping_fen INTEGER NOT NULL,
    payable_fen INTEGER NOT NULL CHECK (payable_fen >= 0),
    paid_fen INTEGER NOT NULL DEFAULT 0,
    refunded_fen INTEGER NOT NULL DEFAULT 0,
    recipient TEXT NOT NULL,
    phone TEXT NOT NULL,
    address TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    pay_deadline_at INTEGER NOT NULL,
    paid_at INTEGER,
    shipped_at INTEGER,
    received_at INTEGER,
    completes_at INTEGER,
    closed_at INTEGER,
    -- The Idempotency-Key the order was placed with, and a hash of that request: an order is
    -- its own idempotency record, so placing one writes no second row.
    idem_key TEXT,
    request_hash TEXT
) STRICT;
-- Serves both a customer's order list and idempotency lookups (NULL keys never collide).
CREATE UNIQUE INDEX orders_customer_key ON orders (customer_id, idem_key);
CREATE INDEX orders_shop ON orders (shop_id, created_at);

CREATE TABLE order_items (
    order_id TEXT NOT NULL REFERENCES orders(id),
    line_no INTEGER NOT NULL,
    sku_id TEXT NOT NULL REFERENCES skus(id),
    product_id TEXT NOT NULL,
    supplier_id TEXT NOT NULL,
    title TEXT NOT NULL,
    attributes TEXT NOT NULL,
    unit_fen INTEGER NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    goods_fen INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
) STRICT;
CREATE INDEX order_items_supplier ON order_items (supplier_id, order_id);

CREATE TABLE shipments (
    order_id TEXT NOT NULL REFERENCES orders(id),
    supplier_id TEXT NOT NULL,
    carrier TEXT NOT NULL,
    tracking_no TEXT NOT NULL,
    shipped_at INTEGER NOT NULL,
    PRIMARY KEY (order_id, supplier_id)
) STRICT;

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    provider TEXT NOT NULL,
    out_trade_no TEXT NOT NULL UNIQUE,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    status TEXT NOT NULL,
    provider_txn_id TEXT,
    created_at INTEGER NOT NULL,
    succeeded_at INTEGER
) STRICT;
CREATE INDEX payments_order ON payments (order_id);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_refund_id TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;
CREATE INDEX refunds_order ON refunds (order_id);

-- Nonces of accepted provider callbacks: a replayed callback is refused, not re-applied.
CREATE TABLE callback_nonces (
    provider TEXT NOT NULL,
    nonce TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, nonce)
) STRICT;

-- Saved responses of money-moving requests (payments, refunds), keyed by the caller and their
-- Idempotency-Key. Orders keep their key on the order row instead.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, idem_key)
) STRICT;

-- Background jobs, enqueued in the same transaction as the business write that needs them.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    lease_until INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_due ON jobs (run_at);

-- The sandbox payment provider's own books: what a real provider would keep on its side.
CREATE TABLE sandbox_transactions (
    id TEXT PRIMARY KEY,
    out_trade_no TEXT NOT NULL UNIQUE,
    amount_fen INTEGER NOT NULL,
    description TEXT NOT NULL,
    notify_url TEXT NOT NULL,
    return_url TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'paid', 'closed')),
    refunded_fen INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    paid_at INTEGER
) STRICT;

CREATE TABLE sandbox_refunds (
    id TEXT PRIMARY KEY,
    transaction_id TEXT NOT NULL REFERENCES sandbox_transactions(id),
    out_refund_no TEXT NOT NULL UNIQUE,
    amount_fen INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
