-- One row per finished bootstrap chunk: a restart resumes after the last one and never refetches it.
CREATE TABLE source_checkpoints (
  source     TEXT NOT NULL,
  from_ms    BIGINT  NOT NULL,
  to_ms      BIGINT  NOT NULL,
  readings   INTEGER NOT NULL,
  done_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (source, from_ms)
);
