-- Retention: rules set over the API (settings give the defaults), and per series the time before
-- which its raw readings were deleted (whole sorted days: their hourly rollups stay and answer).
CREATE TABLE retention_rules (
  pattern        VARCHAR PRIMARY KEY,  -- a series key glob: * any characters, ? one
  keep_raw_days  INTEGER NOT NULL
);
CREATE TABLE readings_pruned (
  series_id  INTEGER PRIMARY KEY,
  before_ts  BIGINT NOT NULL  -- UTC epoch ms, a day's start
);
