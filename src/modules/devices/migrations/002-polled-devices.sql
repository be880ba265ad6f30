-- Polled devices (role `jobs`): how to reach a device and how its polls go, on its registry row.
-- poll_kind NULL: the device is not polled (it reports over MQTT or Emoncms, or was removed).
-- Columns carry no constraints: DuckDB cannot add a column with one.
ALTER TABLE devices ADD COLUMN poll_kind TEXT;            -- shelly-gen1, shelly-gen2, tasmota, http-json
ALTER TABLE devices ADD COLUMN poll_url TEXT;             -- the device's base URL
ALTER TABLE devices ADD COLUMN poll_interval_s INTEGER;
ALTER TABLE devices ADD COLUMN poll_username TEXT;
ALTER TABLE devices ADD COLUMN poll_password TEXT;        -- never answered by the API nor logged
ALTER TABLE devices ADD COLUMN poll_timezone TEXT;        -- zone of device times without an offset ('' = core timezone)
ALTER TABLE devices ADD COLUMN poll_origin TEXT;          -- settings (devices.poll) or api (POST /api/v1/devices)
ALTER TABLE devices ADD COLUMN last_success BIGINT;       -- UTC epoch ms of the last poll that stored its readings
ALTER TABLE devices ADD COLUMN last_error TEXT;           -- why the last failed poll failed (kept after a success)
ALTER TABLE devices ADD COLUMN last_error_at BIGINT;
ALTER TABLE devices ADD COLUMN consecutive_failures INTEGER DEFAULT 0;
ALTER TABLE devices ADD COLUMN next_poll BIGINT;          -- UTC epoch ms the poller polls it next (backed off after failures)
