-- DuckDB only: a GA4 BigQuery export's events_* table exported to Parquet
-- (user_pseudo_id, event_timestamp in microseconds, event_name, items[].item_id).
-- view_item -> view, select_item -> click, add_to_cart -> add_to_cart, purchase -> purchase,
-- one event per item of items[]; other event names carry no item and are counted as ignored.
CREATE {{kind}} raw_input AS
SELECT
  file_row_number + 1 AS src_line,
  CAST(user_pseudo_id AS VARCHAR) AS user_id,
  CAST(it.item_id AS VARCHAR) AS item_id,
  CAST(CAST(floor(event_timestamp / 1000000) AS BIGINT) AS VARCHAR) AS ts_text,
  CASE event_name
    WHEN 'view_item' THEN 'view'
    WHEN 'select_item' THEN 'click'
    WHEN 'add_to_cart' THEN 'add_to_cart'
    WHEN 'purchase' THEN 'purchase'
  END AS event_type,
  false AS malformed
FROM (
  SELECT file_row_number, user_pseudo_id, event_timestamp, event_name, unnest(items) AS it
  FROM raw_file
  WHERE event_name IN ('view_item', 'select_item', 'add_to_cart', 'purchase')
) x;

CREATE TABLE ignored_input AS
SELECT event_name AS what, count(*) AS n
FROM raw_file
WHERE event_name NOT IN ('view_item', 'select_item', 'add_to_cart', 'purchase') OR event_name IS NULL OR len(items) = 0 OR items IS NULL
GROUP BY event_name;
