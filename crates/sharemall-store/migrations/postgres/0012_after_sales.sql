-- After-sales (SPEC 3.7): return and refund cases on received orders, the units of each line
-- they return, and the units that came back into stock.

-- One case covers some units of some lines of one supplier's part of an order. The partial
-- unique index keeps an order to one open case at a time, so two cases never race for the same
-- money; the commission of an order waits while it has one.
CREATE TABLE after_sales (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    customer_id TEXT NOT NULL REFERENCES users(id),
    supplier_id TEXT NOT NULL REFERENCES suppliers(id),
    reason TEXT NOT NULL CHECK (reason IN ('no_reason', 'quality')),
    description TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'returned', 'refunding', 'refunded',
        'rejected', 'cancelled', 'closed', 'refund_failed')),
    resolution TEXT CHECK (resolution IN ('return_and_refund', 'refund_only')),
    -- Σ of the lines' refunds, plus the shipping fee when the case returns everything left.
    refund_fen BIGINT NOT NULL CHECK (refund_fen > 0),
    -- The case returns every unit the order still had: the order itself is refunded in full.
    whole_order BOOLEAN NOT NULL,
    refund_id TEXT REFERENCES refunds(id),
    return_carrier TEXT,
    return_tracking_no TEXT,
    -- The supplier's or operator's reason for a rejection, or what a deadline did.
    decision_note TEXT NOT NULL DEFAULT '',
    decided_by TEXT REFERENCES users(id),
    -- When the current state's wait ends (answer, send back, confirm); NULL once final.
    deadline_at BIGINT,
    requested_at BIGINT NOT NULL,
    decided_at BIGINT,
    returned_at BIGINT,
    goods_back_at BIGINT,
    finished_at BIGINT
);
CREATE UNIQUE INDEX after_sales_one_open ON after_sales (order_id) WHERE status IN ('requested', 'approved', 'returned', 'refunding');
CREATE INDEX after_sales_order ON after_sales (order_id);
CREATE INDEX after_sales_customer ON after_sales (customer_id, requested_at);
CREATE INDEX after_sales_supplier ON after_sales (supplier_id, status, requested_at);
CREATE INDEX after_sales_status ON after_sales (status, requested_at);

CREATE TABLE after_sale_lines (
    after_sale_id TEXT NOT NULL REFERENCES after_sales(id),
    order_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    refund_fen BIGINT NOT NULL CHECK (refund_fen >= 0),
    PRIMARY KEY (after_sale_id, line_no),
    FOREIGN KEY (order_id, line_no) REFERENCES order_items (order_id, line_no)
);
CREATE INDEX after_sale_lines_order ON after_sale_lines (order_id, line_no);

-- Units of the line that came back and went into stock again (never more than were ordered).
ALTER TABLE order_items ADD COLUMN restocked_qty BIGINT NOT NULL DEFAULT 0;
-- The case a refund pays, if it came from after-sales (the checks find a case's refunds by it).
ALTER TABLE refunds ADD COLUMN after_sale_id TEXT REFERENCES after_sales(id);
CREATE INDEX refunds_after_sale ON refunds (after_sale_id) WHERE after_sale_id IS NOT NULL;
