-- DuckDB only: the events format as JSON Lines: {"user": ..., "item": ..., "timestamp": ..., "type": ...}.
CREATE {{kind}} raw_input AS
SELECT
  {{line}} AS src_line,
  CASE WHEN json_valid(j) THEN json_extract_string(j, '$.user') END AS user_id,
  CASE WHEN json_valid(j) THEN json_extract_string(j, '$.item') END AS item_id,
  CASE WHEN json_valid(j) THEN json_extract_string(j, '$.timestamp') END AS ts_text,
  CASE WHEN json_valid(j) THEN lower(coalesce(nullif(json_extract_string(j, '$.type'), ''), 'view')) END AS event_type,
  NOT json_valid(j) AS malformed
FROM raw_lines
WHERE trim(j) <> '';
