-- name: Golden dataset reconciliation
-- description: For a deterministic sample of 1,000 users of the latest profile export (first by user id; ids are opaque), compares each profile counter (counts.<event_type>) with the unique events the lake holds from before the snapshot day. 'unsettled' users have events since then that the export may or may not include.
WITH latest AS (
  SELECT max(snapshot) AS snapshot
  FROM profile_exports
),
sampled AS (
  SELECT p.item.user_id.s AS user_id, p.item.counts.m AS counts, p.snapshot
  FROM profile_exports p
  JOIN latest l ON p.snapshot = l.snapshot
  WHERE p.item IS NOT NULL
  ORDER BY p.item.user_id.s
  LIMIT 1000
),
event_types (event_type) AS (
  VALUES ('page_view'), ('content_view'), ('click'), ('search'), ('add_to_cart'), ('remove_from_cart'), ('purchase')
),
lake AS (
  SELECT
    e.user_id,
    e.event_type,
    count(DISTINCT e.event_id) FILTER (WHERE e.dt < s.snapshot) AS lake_count,
    count(*) FILTER (WHERE e.dt >= s.snapshot) AS events_since_snapshot
  FROM curated_events e
  JOIN sampled s ON e.user_id = s.user_id
  GROUP BY e.user_id, e.event_type
),
unsettled AS (
  SELECT user_id
  FROM lake
  GROUP BY user_id
  HAVING sum(events_since_snapshot) > 0
),
compared AS (
  SELECT
    s.user_id,
    t.event_type,
    coalesce(l.lake_count, 0) AS lake_count,
    coalesce(CAST(element_at(s.counts, t.event_type).n AS bigint), 0) AS profile_count,
    u.user_id IS NOT NULL AS is_unsettled
  FROM sampled s
  CROSS JOIN event_types t
  LEFT JOIN lake l ON l.user_id = s.user_id AND l.event_type = t.event_type
  LEFT JOIN unsettled u ON u.user_id = s.user_id
)
SELECT
  user_id,
  event_type,
  lake_count,
  profile_count,
  profile_count - lake_count AS difference,
  CASE
    WHEN profile_count = lake_count THEN 'match'
    WHEN is_unsettled THEN 'unsettled'
    ELSE 'mismatch'
  END AS status
FROM compared
WHERE lake_count > 0 OR profile_count > 0
ORDER BY profile_count = lake_count, user_id, event_type
