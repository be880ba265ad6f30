-- The files module's own tables; no other module reads them.

-- The ledger: every file seen at a watched location, what became of it, and when.
CREATE TABLE files_ledger (
  location            TEXT NOT NULL,     -- the location's name (its URL without the password by default)
  path                TEXT NOT NULL,     -- relative to the location's root
  size                BIGINT NOT NULL,
  modified_ms         BIGINT,            -- UTC epoch ms, as listed (NULL when the server does not say)
  sha256              TEXT,              -- NULL until downloaded
  status              TEXT NOT NULL,     -- pending | ingested | rejected | skipped
  readings            BIGINT NOT NULL DEFAULT 0,
  error               TEXT,              -- why rejected, skipped or still pending
  error_line          INTEGER,           -- the line a rejected file failed on (1-based)
  duplicate_of        TEXT,              -- skipped as a copy: the path it duplicates
  first_processed_ms  BIGINT,
  last_processed_ms   BIGINT,
  PRIMARY KEY (location, path)
);
CREATE INDEX files_ledger_sha256 ON files_ledger (sha256);

-- Each location's scans.
CREATE TABLE files_locations (
  location         TEXT PRIMARY KEY,
  last_scan_ms     BIGINT,
  last_success_ms  BIGINT,
  last_error       TEXT,
  next_scan_ms     BIGINT
);
