-- DuckDB only: Segment / RudderStack `track` events as JSON Lines (after lines.sql):
-- userId (or anonymousId when absent), timestamp (ISO 8601), event:
-- "Product Viewed" -> view, "Product Clicked" -> click, "Product Added" -> add_to_cart
-- (properties.product_id), "Order Completed" -> purchase (one per properties.products[].product_id).
-- Other events (page views, sign-ups, ...) carry no product and are counted as ignored.
CREATE TABLE parsed_lines AS
SELECT
  {{line}} AS src_line,
  json_valid(j) AS ok,
  CASE WHEN json_valid(j) THEN coalesce(json_extract_string(j, '$.userId'), json_extract_string(j, '$.anonymousId')) END AS user_id,
  CASE WHEN json_valid(j) THEN json_extract_string(j, '$.timestamp') END AS ts_text,
  CASE WHEN json_valid(j) THEN json_extract_string(j, '$.event') END AS event_name,
  CASE WHEN json_valid(j) THEN json_extract_string(j, '$.properties.product_id') END AS product_id,
  CASE WHEN json_valid(j) THEN json_extract_string(j, '$.properties.products[*].product_id') END AS product_ids
FROM raw_lines
WHERE trim(j) <> '';

CREATE {{kind}} raw_input AS
SELECT src_line, user_id, product_id AS item_id, ts_text,
  CASE event_name WHEN 'Product Viewed' THEN 'view' WHEN 'Product Clicked' THEN 'click' ELSE 'add_to_cart' END AS event_type,
  false AS malformed
FROM parsed_lines
WHERE ok AND event_name IN ('Product Viewed', 'Product Clicked', 'Product Added')
UNION ALL
SELECT src_line, user_id, unnest(coalesce(product_ids, [NULL])) AS item_id, ts_text, 'purchase' AS event_type, false AS malformed
FROM parsed_lines
WHERE ok AND event_name = 'Order Completed'
UNION ALL
SELECT src_line, NULL, NULL, NULL, NULL, true
FROM parsed_lines
WHERE NOT ok;

CREATE TABLE ignored_input AS
SELECT coalesce(event_name, '(no event name)') AS what, count(*) AS n
FROM parsed_lines
WHERE ok AND (event_name IS NULL OR event_name NOT IN ('Product Viewed', 'Product Clicked', 'Product Added', 'Order Completed'))
GROUP BY event_name;
