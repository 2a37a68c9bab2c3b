-- DuckDB only: the events format (CSV or Parquet, after events-csv.sql / events-parquet.sql)
-- to raw_input(src_line, user_id, item_id, ts_text, event_type). An absent type is a view.
CREATE {{kind}} raw_input AS
SELECT
  {{line}} AS src_line,
  CAST("user" AS VARCHAR) AS user_id,
  CAST(item AS VARCHAR) AS item_id,
  CAST("timestamp" AS VARCHAR) AS ts_text,
  {{type}} AS event_type,
  false AS malformed
FROM raw_file;
