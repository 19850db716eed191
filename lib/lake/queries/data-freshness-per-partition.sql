-- name: Data freshness per partition
-- description: Curated hour partitions of today and yesterday (UTC): events, newest event time and how far it lags behind now, in seconds.
SELECT
  dt AS day,
  hour,
  count(*) AS events,
  max(event_time) AS newest_event_time,
  round(CAST(date_diff('millisecond', max(event_time), CAST(current_timestamp AT TIME ZONE 'UTC' AS timestamp)) AS double) / 1000, 3) AS lag_seconds
FROM curated_events
WHERE dt >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
GROUP BY dt, hour
ORDER BY dt DESC, hour DESC
