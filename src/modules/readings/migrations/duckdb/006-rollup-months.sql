-- Months (UTC, as the month's first day number) whose hourly rollups have been rewritten in (series, hour)
-- order: one series' rows then sit in a few row groups, so its queries skip the others.
CREATE TABLE readings_hourly_months (
  month INTEGER PRIMARY KEY
);
