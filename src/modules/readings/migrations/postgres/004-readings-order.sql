-- The bus's order of the message that last wrote each reading (µs since 1970, MessageMeta.order):
-- with several persistors committing out of order, a reading is replaced only by a later message.
ALTER TABLE readings ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
