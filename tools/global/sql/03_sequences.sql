-- Per-user sequences: the events of each user in time order (ties by item row, weight, type),
-- pos 1-based. One window pass: sessions (for co-purchase) are cut in 07_copurchase.sql, only
-- for the users who bought two items.
CREATE TABLE sequences AS
SELECT
  e.user_id,
  i.item_row,
  e.ts,
  e.weight,
  e.event_type,
  ROW_NUMBER() OVER (PARTITION BY e.user_id ORDER BY e.ts, i.item_row, e.weight, e.event_type) AS pos
FROM events e
JOIN items i ON i.item_id = e.item_id;
