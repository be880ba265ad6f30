-- Each worker's last word on a date (OK or FAILED with the reason).
CREATE TABLE daily_status (
  date        VARCHAR NOT NULL,
  service     VARCHAR NOT NULL,
  status      VARCHAR NOT NULL,
  reason      VARCHAR,
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (date, service)
);

-- One summary per local date; a re-run replaces it.
CREATE TABLE daily_summaries (
  date         VARCHAR PRIMARY KEY,
  summary      VARCHAR NOT NULL,  -- JSON of DailySummary
  computed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
