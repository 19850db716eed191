-- name: Session length distribution
-- description: Sessions of the last 7 days by length (first to last event of the session), in buckets with their share. Canary users excluded.
WITH sessions AS (
  SELECT
    user_id,
    session_id,
    CAST(date_diff('millisecond', min(event_time), max(event_time)) AS double) / 1000 AS seconds,
    count(*) AS events
  FROM curated_events
  WHERE dt >= CAST(CAST(current_date - INTERVAL '7' DAY AS date) AS varchar)
    AND NOT starts_with(user_id, 'pdp-canary:')
  GROUP BY user_id, session_id
),
bucketed AS (
  SELECT
    CASE
      WHEN seconds < 60 THEN 1
      WHEN seconds < 300 THEN 2
      WHEN seconds < 900 THEN 3
      WHEN seconds < 1800 THEN 4
      WHEN seconds < 3600 THEN 5
      ELSE 6
    END AS bucket,
    events
  FROM sessions
)
SELECT
  bucket,
  CASE bucket
    WHEN 1 THEN 'under 1 min'
    WHEN 2 THEN '1-5 min'
    WHEN 3 THEN '5-15 min'
    WHEN 4 THEN '15-30 min'
    WHEN 5 THEN '30-60 min'
    ELSE '60 min and more'
  END AS session_length,
  count(*) AS sessions,
  round(CAST(count(*) AS double) / sum(count(*)) OVER (), 4) AS share,
  round(CAST(sum(events) AS double) / count(*), 2) AS events_per_session
FROM bucketed
GROUP BY bucket
ORDER BY bucket
