-- Share statistics (SPEC 3.3, 3.10). A visit that bound its visitor (a first binding, or one
-- taken over after the protection lapsed) says so, so a share's new customers are counted from
-- its visits through the index they already have, and the busiest insert of the platform writes
-- no index of bindings by share.

ALTER TABLE share_visits ADD COLUMN bound INTEGER NOT NULL DEFAULT 0 CHECK (bound IN (0, 1));

-- Nothing reads bindings by shop and time: a shop's bound customers are counted from its shares'
-- visits. One index fewer to write on every first visit.
DROP INDEX customer_bindings_shop;
