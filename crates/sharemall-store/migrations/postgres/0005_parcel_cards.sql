-- Parcel insert cards (包裹卡, SPEC 3.3): a card is a share of its shop on the parcel-card
-- channel (the QR on the card is that share's link) plus the words printed on it.

CREATE TABLE parcel_cards (
    code TEXT PRIMARY KEY REFERENCES shares(code),
    message TEXT NOT NULL,
    offer TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A shop's cards, newest first, without reading every other share of the shop: only
-- parcel-card shares enter this index.
CREATE INDEX shares_shop_parcel_cards ON shares (shop_id, created_at, code) WHERE channel = 'parcel_card';
