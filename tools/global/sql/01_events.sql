-- Events normalised: input_events(user_id, item_id, ts unix seconds, event_type) -> a weight
-- per event type, the weights the engine uses on the device (src/vocabulary.ts):
-- view 1, dwell 1, click 2, like 3, add_to_cart 4, purchase 6. search (0) and dismiss (-4)
-- carry no positive interest and are left out of every signal. A view: 02 and 03 read it.
CREATE VIEW events AS
SELECT user_id, item_id, ts, event_type, weight
FROM (
  SELECT
    user_id,
    item_id,
    ts,
    event_type,
    CASE event_type
      WHEN 'view' THEN 1
      WHEN 'dwell' THEN 1
      WHEN 'click' THEN 2
      WHEN 'like' THEN 3
      WHEN 'add_to_cart' THEN 4
      WHEN 'purchase' THEN 6
      ELSE 0
    END AS weight
  FROM input_events
) w
WHERE weight > 0;
