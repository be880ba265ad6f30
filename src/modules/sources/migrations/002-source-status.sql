-- One row per connector: how its last polls went, for GET /api/v1/sources (written by the jobs role,
-- read by the api role, which may be another process).
CREATE TABLE source_status (
  source          TEXT PRIMARY KEY,
  last_success_ms BIGINT,
  last_error      TEXT,
  last_error_ms   BIGINT,
  next_run_ms     BIGINT
);
