-- name: Duplicate rate
-- description: Per UTC day of the last 30 days: curated rows, unique events (user_id, event_id) and the share of rows that are repeats (producer retries, at-least-once delivery). Canary users excluded.
WITH copies AS (
  SELECT dt, user_id, event_id, count(*) AS copies
  FROM curated_events
  WHERE dt >= CAST(CAST(current_date - INTERVAL '30' DAY AS date) AS varchar)
    AND NOT starts_with(user_id, 'pdp-canary:')
  GROUP BY dt, user_id, event_id
)
SELECT
  dt AS day,
  sum(copies) AS total_rows,
  count(*) AS unique_events,
  sum(copies) - count(*) AS duplicates,
  round(CAST(sum(copies) - count(*) AS double) / sum(copies), 6) AS duplicate_rate
FROM copies
GROUP BY dt
ORDER BY dt
