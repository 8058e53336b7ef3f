-- Groups (团, SPEC 3.5) and their members, orders placed for an activity, and the customer's
-- inbox, where a group's outcome is announced.

-- Which activity priced an order: NULL for an ordinary order, 'group_buy' or 'bargain'. A paid
-- group-buy order waits in `awaiting_group` instead of going to `to_ship`.
ALTER TABLE orders ADD COLUMN activity TEXT CHECK (activity IS NULL OR activity IN ('group_buy', 'bargain'));

-- A group exists from its opener's payment on. Seats are counted, never assumed: paid members
-- plus seats held by joiners' unpaid orders never exceed the size, and the CHECK says so too.
CREATE TABLE buy_groups (
    id TEXT PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES group_campaigns(id),
    -- The shop the group was opened in: joiners buy there, so the shop that shared it earns.
    shop_id TEXT NOT NULL REFERENCES shops(id),
    leader_id TEXT NOT NULL REFERENCES users(id),
    size INTEGER NOT NULL CHECK (size BETWEEN 2 AND 100),
    paid INTEGER NOT NULL CHECK (paid >= 0),
    held INTEGER NOT NULL CHECK (held >= 0),
    status TEXT NOT NULL CHECK (status IN ('open', 'succeeded', 'platform_completed', 'failed')),
    opened_at INTEGER NOT NULL,
    -- Expiry is data: an open group past this moment reads as expired before any sweep.
    expires_at INTEGER NOT NULL,
    settled_at INTEGER,
    CHECK (paid + held <= size)
) STRICT;

-- The sweeper's queue: open groups by deadline, and nothing else.
CREATE INDEX buy_groups_due ON buy_groups (expires_at) WHERE status = 'open';
-- Joinable groups of a campaign (the product page's 凑团 list) and a campaign's statistics.
CREATE INDEX buy_groups_campaign ON buy_groups (campaign_id, status);

-- One row per group order. An opener's row has no group until the opener pays.
CREATE TABLE buy_group_members (
    order_id TEXT PRIMARY KEY REFERENCES orders(id),
    group_id TEXT REFERENCES buy_groups(id),
    campaign_id TEXT NOT NULL REFERENCES group_campaigns(id),
    customer_id TEXT NOT NULL REFERENCES users(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    leader INTEGER NOT NULL CHECK (leader IN (0, 1)),
    -- held: order unpaid; paid; cancelled: the order closed unpaid; refunded: the group failed
    -- (or the payment came too late) and the money is on its way back.
    status TEXT NOT NULL CHECK (status IN ('held', 'paid', 'cancelled', 'refunded')),
    joined_at INTEGER NOT NULL,
    paid_at INTEGER
) STRICT;

-- Nobody is in one group twice: the database refuses it whatever the interleaving.
CREATE UNIQUE INDEX buy_group_members_once ON buy_group_members (group_id, customer_id) WHERE status IN ('held', 'paid');
-- A customer's units in a campaign (the per-customer limit) and their groups ("my groups"),
-- covering: a join reads every membership of the joiner in the campaign, from the index alone.
CREATE INDEX buy_group_members_customer ON buy_group_members (customer_id, campaign_id, status, group_id, quantity);
CREATE INDEX buy_group_members_group ON buy_group_members (group_id, status);

-- Messages to one user. (kind, subject) is unique per user, so a job that re-runs never says
-- the same thing twice.
CREATE TABLE inbox_messages (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- Placeholders for the message text, as JSON; the page words it in the reader's language.
    params TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER,
    UNIQUE (user_id, kind, subject)
) STRICT;
CREATE INDEX inbox_messages_user ON inbox_messages (user_id, id);

-- A share of a group (拼团分享): a share of the campaign's product in the group's shop that
-- lands on the group's page. NULL for every other share.
ALTER TABLE shares ADD COLUMN group_id TEXT REFERENCES buy_groups(id);
