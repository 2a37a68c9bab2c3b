-- Co-purchase (bought together): distinct items one user purchased in the same session, one
-- count per session and pair, both directions, the strongest bought_k kept per item (ties by
-- row). A gap longer than session_gap_seconds without any event of the user starts a new
-- session (session_no counts from 0). Empty when no session holds two purchases.
CREATE TABLE bought AS
WITH buyers AS (
  SELECT user_id
  FROM sequences
  WHERE event_type = 'purchase'
  GROUP BY user_id
  HAVING COUNT(DISTINCT item_row) >= 2
),
flagged AS (
  SELECT
    s.user_id,
    s.item_row,
    s.event_type,
    s.pos,
    CASE WHEN s.ts - LAG(s.ts, 1) OVER (PARTITION BY s.user_id ORDER BY s.pos) > p.session_gap_seconds THEN 1 ELSE 0 END AS new_session
  FROM sequences s
  JOIN buyers b ON b.user_id = s.user_id
  CROSS JOIN build_params p
),
sessions AS (
  SELECT
    user_id,
    item_row,
    event_type,
    SUM(new_session) OVER (PARTITION BY user_id ORDER BY pos ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS session_no
  FROM flagged
),
baskets AS (
  SELECT DISTINCT user_id, session_no, item_row
  FROM sessions
  WHERE event_type = 'purchase'
),
pairs AS (
  SELECT a.item_row AS from_row, b.item_row AS to_row, COUNT(*) AS sessions
  FROM baskets a
  JOIN baskets b ON b.user_id = a.user_id AND b.session_no = a.session_no AND b.item_row <> a.item_row
  GROUP BY a.item_row, b.item_row
),
ranked AS (
  SELECT
    from_row,
    to_row,
    sessions,
    ROW_NUMBER() OVER (PARTITION BY from_row ORDER BY sessions DESC, to_row) AS nb_rank
  FROM pairs
)
SELECT r.from_row, r.to_row, r.nb_rank, r.sessions AS weight
FROM ranked r
CROSS JOIN build_params p
WHERE r.nb_rank <= p.bought_k;
