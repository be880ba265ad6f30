-- Keys made with `wattline keys create`; only their SHA-256 is kept.
CREATE TABLE api_keys (
  key_hash    VARCHAR PRIMARY KEY,
  scope       VARCHAR NOT NULL,
  name        VARCHAR,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
