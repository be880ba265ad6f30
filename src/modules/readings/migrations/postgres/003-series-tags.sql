-- Tags of a series (line protocol's, or a description's), as JSON text of string values.
ALTER TABLE series ADD COLUMN tags TEXT;
