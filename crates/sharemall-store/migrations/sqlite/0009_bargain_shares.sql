-- A share of a bargain (砍价分享, SPEC 3.3 and 3.6): a share of the campaign's product in the
-- bargain's shop that lands on the bargain's page, where friends help. NULL for every other
-- share. The shape of 0007's `shares.group_id`: the visit and binding are a product share's.
ALTER TABLE shares ADD COLUMN bargain_id TEXT REFERENCES bargains(id);
