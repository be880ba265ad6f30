-- Retention rules set over the API (settings give the defaults). PostgreSQL keeps no rollups yet,
-- so rules are kept but raw readings are not deleted there (see the readings README).
CREATE TABLE retention_rules (
  pattern        TEXT PRIMARY KEY,  -- a series key glob: * any characters, ? one
  keep_raw_days  INTEGER NOT NULL
);
