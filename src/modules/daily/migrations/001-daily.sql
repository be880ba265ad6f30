-- Each worker's last word on a date (OK or FAILED with the reason).
CREATE TABLE daily_status (
  date        TEXT NOT NULL,
  service     TEXT NOT NULL,
  status      TEXT NOT NULL,
  reason      TEXT,
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (date, service)
);

-- One summary per local date; a re-run replaces it.
CREATE TABLE daily_summaries (
  date         TEXT PRIMARY KEY,
  summary      TEXT NOT NULL,  -- JSON of DailySummary
  computed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
