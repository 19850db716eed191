-- name: Weekly active users
-- description: Distinct users with at least one valid event per ISO week (Monday start, UTC), last 12 full weeks and the current one. Canary users excluded.
SELECT
  CAST(date_trunc('week', event_time) AS date) AS week_start,
  count(DISTINCT user_id) AS active_users,
  count(*) AS events
FROM curated_events
WHERE dt >= CAST(CAST(date_trunc('week', current_date) - INTERVAL '84' DAY AS date) AS varchar)
  AND NOT starts_with(user_id, 'pdp-canary:')
GROUP BY 1
ORDER BY 1
