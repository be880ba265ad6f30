-- The per-installation secret API keys are hashed with (HMAC-SHA256), made at first start. It lives
-- in the store so every process sharing the store checks keys alike. Keys stored before it (plain
-- SHA-256, 64 hex digits) keep working and are rehashed on first use.
CREATE TABLE api_key_secret (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  secret  VARCHAR NOT NULL
);
