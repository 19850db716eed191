-- name: Top content per category
-- description: The 10 most viewed content items of each category over the last 7 days, with distinct viewers. Canary users excluded.
WITH views AS (
  SELECT category, content_id, count(*) AS views, count(DISTINCT user_id) AS viewers
  FROM curated_events
  WHERE dt >= CAST(CAST(current_date - INTERVAL '7' DAY AS date) AS varchar)
    AND NOT starts_with(user_id, 'pdp-canary:')
    AND event_type = 'content_view'
    AND category IS NOT NULL
    AND content_id IS NOT NULL
  GROUP BY category, content_id
),
ranked AS (
  SELECT category, content_id, views, viewers,
    row_number() OVER (PARTITION BY category ORDER BY views DESC, content_id) AS rank
  FROM views
)
SELECT category, rank, content_id, views, viewers
FROM ranked
WHERE rank <= 10
ORDER BY category, rank
