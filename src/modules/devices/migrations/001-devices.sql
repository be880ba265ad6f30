-- The devices module's registry: every device that reported (over MQTT or the Emoncms input API)
-- or is polled. Its readings are series `<prefix>/<device>/<quantity>`, its quantities sensors of
-- the buildings module; here only what the module itself knows of the device.
CREATE TABLE devices (
  device_id     TEXT PRIMARY KEY,   -- as its series name it: `<prefix>/<device>`
  family        TEXT NOT NULL,      -- tasmota, shelly-gen1, shelly-gen2, zigbee2mqtt, emonhub, json, emoncms, http-json
  source        TEXT NOT NULL,      -- mqtt, poll, emoncms
  online        BOOLEAN,            -- the device's own last word (LWT, `online`); NULL: it never said
  last_message  BIGINT,             -- UTC epoch ms of the last message or successful poll
  created_at    BIGINT NOT NULL
);
