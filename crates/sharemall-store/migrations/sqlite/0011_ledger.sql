-- The commission ledger (SPEC 3.7): double-entry accounts and transfers, the commission of
-- every order line with its settlement state, withdrawals and the sandbox payout provider's
-- books, the commission policy (SPEC 3.8) and who invited each shop owner.

-- A beneficiary's account (the commission kinds) caches its balance here, changed only in the
-- transaction that writes a transfer touching it; `sharemall check` proves it equals credits −
-- debits. The platform-wide accounts cache nothing (NULL): they are summed when read, so no
-- payment waits on a row that every other payment would update.
CREATE TABLE ledger_accounts (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('provider', 'clearing', 'supplier_payable', 'platform_revenue',
        'commission_pending', 'commission_available', 'withdrawal_hold', 'paid_out')),
    owner_id TEXT,
    balance_fen INTEGER CHECK ((balance_fen IS NULL) = (kind NOT IN ('commission_pending', 'commission_available', 'withdrawal_hold', 'paid_out'))),
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner_id) WHERE owner_id IS NOT NULL;

CREATE TABLE withdrawals (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    amount_fen INTEGER NOT NULL CHECK (amount_fen >= 100),
    status TEXT NOT NULL CHECK (status IN ('requested', 'approved', 'paid', 'rejected', 'failed')),
    payout_provider TEXT NOT NULL,
    -- Where the payout goes, as the owner entered it (a bank card or a WeChat account).
    payee TEXT NOT NULL,
    -- The operator's reason for a rejection, or the provider's for a failed payout.
    note TEXT NOT NULL DEFAULT '',
    provider_payout_id TEXT,
    requested_at INTEGER NOT NULL,
    decided_at INTEGER,
    decided_by TEXT REFERENCES users(id),
    finished_at INTEGER
) STRICT;
CREATE INDEX withdrawals_user ON withdrawals (user_id, requested_at);
CREATE INDEX withdrawals_status ON withdrawals (status, requested_at);

-- Immutable: rows are only ever inserted. The id is derived from what the transfer is about
-- (`domain::ledger::transfer_id`), so writing the same transfer twice writes it once.
CREATE TABLE ledger_transfers (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    debit_account TEXT NOT NULL REFERENCES ledger_accounts(key),
    credit_account TEXT NOT NULL REFERENCES ledger_accounts(key),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    order_id TEXT REFERENCES orders(id),
    line_no INTEGER,
    refund_id TEXT REFERENCES refunds(id),
    withdrawal_id TEXT REFERENCES withdrawals(id),
    created_at INTEGER NOT NULL,
    CHECK (debit_account <> credit_account)
) STRICT, WITHOUT ROWID;
CREATE INDEX ledger_transfers_debit ON ledger_transfers (debit_account, created_at);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (credit_account, created_at);
CREATE INDEX ledger_transfers_order ON ledger_transfers (order_id) WHERE order_id IS NOT NULL;
-- The checks and the audit sum a refund's and a withdrawal's transfers.
CREATE INDEX ledger_transfers_refund ON ledger_transfers (refund_id) WHERE refund_id IS NOT NULL;
CREATE INDEX ledger_transfers_withdrawal ON ledger_transfers (withdrawal_id) WHERE withdrawal_id IS NOT NULL;

-- One beneficiary's commission on one order line: pending until the return window closes,
-- then settled (available); voided when refunds took all of it first. Level 3 cannot be stored.
CREATE TABLE commissions (
    order_id TEXT NOT NULL REFERENCES orders(id),
    line_no INTEGER NOT NULL,
    beneficiary_id TEXT NOT NULL REFERENCES users(id),
    level INTEGER NOT NULL CHECK (level IN (1, 2)),
    rate_bps INTEGER NOT NULL CHECK (rate_bps BETWEEN 0 AND 3000),
    base_fen INTEGER NOT NULL CHECK (base_fen >= 0),
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0 AND amount_fen * 10000 <= base_fen * 3000),
    -- Given back by refunds: voided while pending, clawed back once settled.
    reversed_fen INTEGER NOT NULL DEFAULT 0 CHECK (reversed_fen >= 0 AND reversed_fen <= amount_fen),
    status TEXT NOT NULL CHECK (status IN ('pending', 'settled', 'voided')),
    -- The close of the order's return window: receipt + 7 days + the policy's buffer. NULL
    -- until the order is received.
    settle_after INTEGER,
    settled_at INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no, beneficiary_id),
    CHECK (status <> 'settled' OR (settled_at IS NOT NULL AND settle_after IS NOT NULL AND settled_at >= settle_after))
) STRICT, WITHOUT ROWID;
CREATE INDEX commissions_due ON commissions (settle_after) WHERE status = 'pending';
CREATE INDEX commissions_beneficiary ON commissions (beneficiary_id, created_at);

-- The sandbox payout provider's own books, as a bank would keep them: one payout per
-- merchant payout number, so asking twice pays once. `attempts` counts the requests, which
-- lets the sandbox act out a bank that is busy for a while (see `ops::sandbox_payouts`).
CREATE TABLE sandbox_payouts (
    id TEXT PRIMARY KEY,
    out_payout_no TEXT NOT NULL UNIQUE,
    payee TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'refused')),
    attempts INTEGER NOT NULL CHECK (attempts >= 1),
    created_at INTEGER NOT NULL,
    finished_at INTEGER
) STRICT;

-- The commission policy in force: one row, absent until an operator first sets it (the
-- defaults apply). The checks repeat the compliance guard, so no write of any kind can store
-- depth 3, a rate over 30% or a second level nobody acknowledged.
CREATE TABLE commission_policy (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    depth INTEGER NOT NULL CHECK (depth IN (1, 2)),
    rate_bps INTEGER NOT NULL CHECK (rate_bps BETWEEN 0 AND 3000),
    second_level_rate_bps INTEGER NOT NULL CHECK (second_level_rate_bps >= 0 AND rate_bps + second_level_rate_bps <= 3000),
    acknowledge_second_level_risk INTEGER NOT NULL CHECK (acknowledge_second_level_risk IN (0, 1)),
    settle_buffer_days INTEGER NOT NULL CHECK (settle_buffer_days BETWEEN 0 AND 30),
    binding TEXT NOT NULL CHECK (binding IN ('protected', 'permanent')),
    protection_days INTEGER NOT NULL CHECK (protection_days BETWEEN 1 AND 365),
    updated_at INTEGER NOT NULL,
    updated_by TEXT REFERENCES users(id),
    CHECK ((depth = 1 AND second_level_rate_bps = 0) OR (depth = 2 AND acknowledge_second_level_risk = 1))
) STRICT;

-- Who invited a shop owner: the owner of the shop the new owner was bound to when opening
-- theirs. The invite tree the compliance audit measures; with depth 2, that inviter earns.
ALTER TABLE shops ADD COLUMN invited_by TEXT REFERENCES users(id);
CREATE INDEX shops_invited_by ON shops (invited_by) WHERE invited_by IS NOT NULL;
