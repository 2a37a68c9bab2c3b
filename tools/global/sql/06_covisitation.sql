-- Co-visitation neighbours: two events of one user at most covisit_window positions apart
-- pair their items (summed once per unordered pair, then both directions). A pair counts the mean of the two type weights, times
-- 1/position gap, times 0.5^(time gap / covisit_half_life_days), in micro-units (integers,
-- so sums do not depend on order). The score divides the units of a pair by the square root of
-- the product of the total units of both items (a cosine, so popular items do not neighbour
-- everything), the strongest neighbours_k kept per item (ties by row).
CREATE TABLE covisitation AS
WITH shifted AS (
  SELECT a.user_id, a.item_row, a.ts, a.weight, o.d, a.pos + o.d AS pos_b, p.covisit_half_life_days
  FROM sequences a
  CROSS JOIN build_params p
  JOIN offsets o ON o.d <= p.covisit_window
),
pairs AS (
  SELECT
    a.item_row AS row_a,
    b.item_row AS row_b,
    CAST(ROUND((a.weight + b.weight) * 0.5 / a.d
      * POWER(0.5, (b.ts - a.ts) / (a.covisit_half_life_days * 86400.0)) * 1000000) AS INTEGER) AS units
  FROM shifted a
  JOIN sequences b ON b.user_id = a.user_id AND b.pos = a.pos_b
  WHERE b.item_row <> a.item_row
),
undirected AS (
  SELECT LEAST(row_a, row_b) AS lo, GREATEST(row_a, row_b) AS hi, SUM(units) AS units
  FROM pairs
  GROUP BY LEAST(row_a, row_b), GREATEST(row_a, row_b)
),
summed AS (
  SELECT lo AS from_row, hi AS to_row, units FROM undirected
  UNION ALL
  SELECT hi AS from_row, lo AS to_row, units FROM undirected
),
totals AS (
  SELECT from_row, SUM(units) AS total FROM summed GROUP BY from_row
),
scored AS (
  SELECT
    s.from_row,
    s.to_row,
    s.units,
    s.units / (SQRT(tf.total) * SQRT(tt.total)) AS score
  FROM summed s
  JOIN totals tf ON tf.from_row = s.from_row
  JOIN totals tt ON tt.from_row = s.to_row
  WHERE s.units > 0
),
ranked AS (
  SELECT
    from_row,
    to_row,
    score,
    ROW_NUMBER() OVER (PARTITION BY from_row ORDER BY score DESC, to_row) AS nb_rank
  FROM scored
)
SELECT r.from_row, r.to_row, r.nb_rank, r.score AS weight
FROM ranked r
CROSS JOIN build_params p
WHERE r.nb_rank <= p.neighbours_k;
