-- Months whose readings the compactor has put in (series, ts) order, once. A late write later
-- re-sorts its day alone (at the end of the table) and re-clusters only the month's rollups: moving
-- a month of readings again for one late reading would cost far more than the order saves.
CREATE TABLE readings_clustered_months (
  month INTEGER PRIMARY KEY
);
