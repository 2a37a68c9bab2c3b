-- DuckDB only: every row of raw_input(src_line, user_id, item_id, ts_text, event_type[, malformed])
-- parsed (timestamp: unix seconds, or ISO 8601 with or without an offset) and checked; the
-- first problem of a row is named in `problem` (NULL: a good row). The driver reports or
-- skips the bad rows and feeds the good ones to the signal files as input_events.
CREATE TABLE checked AS
WITH parsed AS (
  SELECT
    src_line,
    nullif(trim(user_id), '') AS user_id,
    nullif(trim(item_id), '') AS item_id,
    ts_text,
    event_type,
    malformed,
    CASE
      WHEN TRY_CAST(ts_text AS BIGINT) IS NOT NULL THEN TRY_CAST(ts_text AS BIGINT)
      WHEN regexp_full_match(trim(ts_text), '-?[0-9]+(\.[0-9]+)?') THEN CAST(floor(CAST(trim(ts_text) AS DOUBLE)) AS BIGINT)
      ELSE CAST(floor(epoch(TRY_CAST(trim(ts_text) AS TIMESTAMPTZ))) AS BIGINT)
    END AS ts
  FROM raw_input
)
SELECT
  src_line, user_id, item_id, ts_text, ts, event_type,
  CASE
    WHEN malformed THEN 'malformed'
    WHEN user_id IS NULL THEN 'missing_user'
    WHEN item_id IS NULL THEN 'missing_item'
    WHEN ts IS NULL THEN 'bad_timestamp'
    WHEN ts > {{now}} + 86400 THEN 'future_timestamp'
    WHEN event_type IS NULL OR event_type NOT IN ({{types}}) THEN 'unknown_type'
    WHEN {{catalog_check}} THEN 'not_in_catalog'
  END AS problem
FROM parsed;
