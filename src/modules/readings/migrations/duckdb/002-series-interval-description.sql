-- What a series is, besides its unit and kind: how long each reading of an interval series covers
-- (seconds; 1800 for half-hourly energy), and a description in words.
ALTER TABLE series ADD COLUMN interval_s INTEGER;
ALTER TABLE series ADD COLUMN description VARCHAR;
