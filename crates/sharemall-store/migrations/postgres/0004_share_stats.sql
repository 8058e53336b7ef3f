-- Share statistics (SPEC 3.3, 3.10): the customers a share bound are counted per share, and the
-- only other index on customer_bindings leads with the visitor or the shop, so without this one
-- counting one share's bindings would read every binding on the platform.

CREATE INDEX customer_bindings_share ON customer_bindings (share_code);

-- Nothing reads bindings by shop and time: a shop's bound customers are found through its shares
-- (the index above). One index fewer to write on every first visit.
DROP INDEX customer_bindings_shop;
