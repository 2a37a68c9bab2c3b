-- Next-item transitions: for each event, the items of the next 3 positions of the same
-- sequence of that user weighted 1/distance (counted as 6, 3, 2 so the sums are exact integers),
-- an item never its own next, normalised per item over all of its next items, the
-- strongest transitions_k kept (ties by row).
CREATE TABLE transitions AS
WITH steps AS (
  SELECT
    item_row AS from_row,
    LEAD(item_row, 1) OVER (PARTITION BY user_id ORDER BY pos) AS next1,
    LEAD(item_row, 2) OVER (PARTITION BY user_id ORDER BY pos) AS next2,
    LEAD(item_row, 3) OVER (PARTITION BY user_id ORDER BY pos) AS next3
  FROM sequences
),
pairs AS (
  SELECT from_row, next1 AS to_row, 6 AS units FROM steps WHERE next1 IS NOT NULL
  UNION ALL
  SELECT from_row, next2 AS to_row, 3 AS units FROM steps WHERE next2 IS NOT NULL
  UNION ALL
  SELECT from_row, next3 AS to_row, 2 AS units FROM steps WHERE next3 IS NOT NULL
),
summed AS (
  SELECT from_row, to_row, SUM(units) AS units
  FROM pairs
  WHERE to_row <> from_row
  GROUP BY from_row, to_row
),
totals AS (
  SELECT from_row, SUM(units) AS total FROM summed GROUP BY from_row
),
ranked AS (
  SELECT
    s.from_row,
    s.to_row,
    s.units / t.total AS weight,
    ROW_NUMBER() OVER (PARTITION BY s.from_row ORDER BY s.units DESC, s.to_row) AS nb_rank
  FROM summed s
  JOIN totals t ON t.from_row = s.from_row
)
SELECT r.from_row, r.to_row, r.nb_rank, r.weight
FROM ranked r
CROSS JOIN build_params p
WHERE r.nb_rank <= p.transitions_k;
