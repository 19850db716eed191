-- name: Daily active users
-- description: Distinct users with at least one valid event per UTC day (event time), last 30 days. Canary users excluded.
SELECT
  dt AS day,
  count(DISTINCT user_id) AS active_users,
  count(*) AS events
FROM curated_events
WHERE dt >= CAST(CAST(current_date - INTERVAL '30' DAY AS date) AS varchar)
  AND NOT starts_with(user_id, 'pdp-canary:')
GROUP BY dt
ORDER BY dt
