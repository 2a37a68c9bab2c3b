-- DuckDB only: MovieLens ratings.csv (userId,movieId,rating,timestamp in unix seconds).
-- With --like-threshold t, a rating of t or more is a 'like' (weight 3), any other a 'view' (weight 1).
-- Default: every rating is a view (NULL below: the comparison is never true).
CREATE {{kind}} raw_input AS
SELECT
  {{line}} AS src_line,
  userId AS user_id,
  movieId AS item_id,
  "timestamp" AS ts_text,
  CASE
    WHEN TRY_CAST(rating AS DOUBLE) IS NULL THEN 'rating ' || coalesce(rating, '(empty)')
    WHEN CAST(rating AS DOUBLE) >= {{like_threshold}} THEN 'like'
    ELSE 'view'
  END AS event_type,
  false AS malformed
FROM raw_file;
