-- name: Quarantine rate by reason
-- description: Per arrival day of the last 7 days and reason code: quarantined records and their share of all records received (raw zone).
WITH received AS (
  SELECT dt, count(*) AS records
  FROM raw_events
  WHERE dt >= CAST(CAST(current_date - INTERVAL '7' DAY AS date) AS varchar)
  GROUP BY dt
),
quarantined AS (
  SELECT dt, reason, count(*) AS records
  FROM quarantine_events
  WHERE dt >= CAST(CAST(current_date - INTERVAL '7' DAY AS date) AS varchar)
  GROUP BY dt, reason
)
SELECT
  q.dt AS day,
  q.reason,
  q.records AS quarantined,
  r.records AS received,
  round(CAST(q.records AS double) / nullif(r.records, 0), 6) AS quarantine_rate
FROM quarantined q
LEFT JOIN received r ON r.dt = q.dt
ORDER BY q.dt, q.records DESC, q.reason
