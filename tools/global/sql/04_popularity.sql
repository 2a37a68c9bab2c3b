-- Time-decayed popularity in [0, 1]: each event counts its type weight halved every
-- popularity_half_life_days before the newest event of the logs, the most popular item is 1.
-- Summed as integers (micro-units) so the total does not depend on the order of the sum.
CREATE TABLE popularity AS
WITH newest AS (
  SELECT MAX(ts) AS t_max FROM sequences
),
units AS (
  SELECT
    s.item_row,
    SUM(CAST(ROUND(s.weight * POWER(0.5, (n.t_max - s.ts) / (p.popularity_half_life_days * 86400.0)) * 1000000) AS INTEGER)) AS units
  FROM sequences s
  CROSS JOIN newest n
  CROSS JOIN build_params p
  GROUP BY s.item_row
),
max_units_t AS (
  SELECT MAX(units) AS max_units FROM units
)
SELECT u.item_row, u.units / GREATEST(t.max_units, 1) AS popularity
FROM units u
CROSS JOIN max_units_t t;
