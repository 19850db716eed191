-- name: View to add-to-cart to purchase funnel
-- description: Per UTC day of the last 30 days: users who viewed content, of them who added to cart after their first view, and of those who purchased after that, with conversion rates. Canary users excluded.
WITH day_events AS (
  SELECT dt, user_id, event_type, event_time
  FROM curated_events
  WHERE dt >= CAST(CAST(current_date - INTERVAL '30' DAY AS date) AS varchar)
    AND NOT starts_with(user_id, 'pdp-canary:')
    AND event_type IN ('content_view', 'add_to_cart', 'purchase')
),
viewed AS (
  SELECT dt, user_id, min(event_time) AS viewed_at
  FROM day_events
  WHERE event_type = 'content_view'
  GROUP BY dt, user_id
),
carted AS (
  SELECT v.dt, v.user_id, min(e.event_time) AS carted_at
  FROM viewed v
  JOIN day_events e ON e.dt = v.dt AND e.user_id = v.user_id AND e.event_type = 'add_to_cart' AND e.event_time >= v.viewed_at
  GROUP BY v.dt, v.user_id
),
purchased AS (
  SELECT DISTINCT c.dt, c.user_id
  FROM carted c
  JOIN day_events e ON e.dt = c.dt AND e.user_id = c.user_id AND e.event_type = 'purchase' AND e.event_time >= c.carted_at
)
SELECT
  v.dt AS day,
  count(*) AS viewers,
  count(c.user_id) AS added_to_cart,
  count(p.user_id) AS purchasers,
  round(CAST(count(c.user_id) AS double) / count(*), 4) AS view_to_cart_rate,
  round(CAST(count(p.user_id) AS double) / nullif(count(c.user_id), 0), 4) AS cart_to_purchase_rate,
  round(CAST(count(p.user_id) AS double) / count(*), 4) AS view_to_purchase_rate
FROM viewed v
LEFT JOIN carted c ON c.dt = v.dt AND c.user_id = v.user_id
LEFT JOIN purchased p ON p.dt = v.dt AND p.user_id = v.user_id
GROUP BY v.dt
ORDER BY v.dt
