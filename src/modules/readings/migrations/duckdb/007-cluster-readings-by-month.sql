-- A clustered month now also has its raw readings in (series, ts) order, not only its rollups in
-- (series, hour) order: forget which months were clustered, so the compactor clusters each month
-- that is over once more, readings and rollups, a slice at a time in the background.
DELETE FROM readings_hourly_months;
