-- name: Events by type per day
-- description: Valid events and distinct users per event type and UTC day (event time), last 30 days. Canary users excluded.
SELECT
  dt AS day,
  event_type,
  count(*) AS events,
  count(DISTINCT user_id) AS users
FROM curated_events
WHERE dt >= CAST(CAST(current_date - INTERVAL '30' DAY AS date) AS varchar)
  AND NOT starts_with(user_id, 'pdp-canary:')
GROUP BY dt, event_type
ORDER BY dt, event_type
