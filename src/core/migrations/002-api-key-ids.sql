-- Keys get an id to list and revoke them by (never their hash), and the time they were last used
-- (written at most once a minute per key). The table is copied into its new shape: DuckDB cannot
-- index a column updated in the same transaction ("Cannot create index with outstanding updates").
CREATE TABLE api_keys_v2 (
  id            VARCHAR PRIMARY KEY,
  key_hash      VARCHAR NOT NULL UNIQUE,
  scope         VARCHAR NOT NULL,
  name          VARCHAR,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at  TIMESTAMPTZ
);
INSERT INTO api_keys_v2 (id, key_hash, scope, name, created_at)
  SELECT 'k_' || substr(replace(CAST(gen_random_uuid() AS VARCHAR), '-', ''), 1, 12), key_hash, scope, name, created_at
  FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_v2 RENAME TO api_keys;
