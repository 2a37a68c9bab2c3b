-- Rows of the asset: every item with an event, most events first, ties by id, shorter first
-- then bytewise, so numeric ids sort numerically. item_row is 0-based.
CREATE TABLE items AS
SELECT
  item_id,
  n_events,
  ROW_NUMBER() OVER (ORDER BY n_events DESC, LENGTH(item_id), item_id) - 1 AS item_row
FROM (
  SELECT item_id, COUNT(*) AS n_events
  FROM events
  GROUP BY item_id
) c;
