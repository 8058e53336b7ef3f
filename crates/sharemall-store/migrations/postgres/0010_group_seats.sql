-- One index does the work of two for a group's members. It leads with the group, so it lists a
-- group's members of any status (success, settling, the group page), and it is unique over
-- (group, customer, live) where `live` is 1 for a held or paid seat and NULL otherwise: NULLs
-- never collide, so cancelled and refunded memberships may repeat, while nobody holds two live
-- seats in one group whatever the interleaving. Every join writes one index entry fewer.
DROP INDEX buy_group_members_once;
DROP INDEX buy_group_members_group;
CREATE UNIQUE INDEX buy_group_members_seat ON buy_group_members (group_id, customer_id, (CASE WHEN status IN ('held', 'paid') THEN 1 END));
