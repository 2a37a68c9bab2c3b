-- EASE step (Steck 2019), skipped with --ease-top 0 (default 2000): the item-item Gram matrix
-- (users who interacted with both, once per user) over the N most frequent items with at
-- least ease_min_count events. The driver adds lambda to the diagonal, inverts it in
-- TypeScript (src/math/linalg invertSpd) and writes the neighbours of those items.
CREATE TABLE ease_gram AS
WITH chosen AS (
  SELECT i.item_row
  FROM items i
  CROSS JOIN build_params q
  WHERE i.item_row < q.ease_top AND i.n_events >= q.ease_min_count
),
seen AS (
  SELECT DISTINCT s.user_id, s.item_row
  FROM sequences s
  JOIN chosen c ON c.item_row = s.item_row
)
SELECT a.item_row AS row_i, b.item_row AS row_j, COUNT(*) AS users
FROM seen a
JOIN seen b ON b.user_id = a.user_id
GROUP BY a.item_row, b.item_row;
