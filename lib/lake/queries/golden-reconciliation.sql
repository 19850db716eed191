-- name: Golden dataset reconciliation
-- description: Compares each profile counter (counts.<event_type>) of up to 1,000 profiles (first by user id; ids are opaque) first seen in the 7 days before the latest completed profile export with the unique events the lake holds for them from before the snapshot day. A user's events include those of the anonymous ids an identify event links to the user (stitching merged them into the profile); an anonymous visitor's profile (anon#<id>) is compared when no identify event links the id. Reads only today's and yesterday's snapshots, only exports whose manifest-summary.json exists, and only 8 days of curated partitions. 'unsettled' users have events since the snapshot that the export may or may not include. Canary users excluded.
WITH exports AS (
  -- The export of today may still be running; yesterday's is complete by now. Older snapshots are not read.
  SELECT
    p.snapshot,
    regexp_extract(p."$path", '^.*/AWSDynamoDB/[^/]+/') AS export_dir,
    p."$path" AS path,
    p.item
  FROM profile_exports p
  WHERE p.snapshot >= CAST(CAST(current_date - INTERVAL '1' DAY AS date) AS varchar)
),
completed AS (
  -- DynamoDB writes manifest-summary.json when an export completes; a failed or running one has none.
  SELECT export_dir, max(snapshot) AS snapshot
  FROM exports
  WHERE path LIKE '%/manifest-summary.json'
  GROUP BY export_dir
),
latest AS (
  -- Export ids start with the export's time in milliseconds: the greatest is the newest.
  SELECT max(export_dir) AS export_dir, max(snapshot) AS snapshot
  FROM completed
  WHERE snapshot = (SELECT max(snapshot) FROM completed)
),
links AS (
  -- An identify event links an anonymous id to a user, whose profile absorbed the id's profile; an id claimed by
  -- two users belongs to the first claim (by event time here, in the order processed in the table).
  SELECT anonymous_id, min_by(user_id, event_time) AS user_id
  FROM curated_events
  WHERE event_type = 'identify'
    AND anonymous_id IS NOT NULL
    AND user_id IS NOT NULL
    AND dt >= CAST(CAST(current_date - INTERVAL '8' DAY AS date) AS varchar)
  GROUP BY anonymous_id
),
sampled AS (
  -- Profiles first seen at most 7 days before the snapshot: every event of theirs is in the partitions read below.
  -- A linked anonymous id's profile was merged into its user's, which is the one compared.
  SELECT e.item.user_id.s AS user_id, e.item.counts.m AS counts, l.snapshot
  FROM exports e
  JOIN latest l ON e.export_dir = l.export_dir
  WHERE e.item IS NOT NULL
    AND NOT starts_with(e.item.user_id.s, 'pdp-canary:')
    AND NOT (starts_with(e.item.user_id.s, 'anon#') AND substr(e.item.user_id.s, 6) IN (SELECT anonymous_id FROM links))
    AND CAST(e.item.first_seen.n AS bigint) >= date_diff('millisecond', TIMESTAMP '1970-01-01 00:00:00', CAST(l.snapshot AS timestamp)) - 7 * 86400000
  ORDER BY e.item.user_id.s
  LIMIT 1000
),
event_types (event_type) AS (
  VALUES ('page_view'), ('content_view'), ('click'), ('search'), ('add_to_cart'), ('remove_from_cart'), ('purchase'), ('identify')
),
owned AS (
  -- The profile each event belongs to: its user, else the user its anonymous id is linked to, else the anonymous
  -- visitor's own profile.
  SELECT
    coalesce(e.user_id, k.user_id, concat('anon#', e.anonymous_id)) AS owner,
    e.event_type,
    e.event_id,
    e.dt
  FROM curated_events e
  LEFT JOIN links k ON e.user_id IS NULL AND e.anonymous_id = k.anonymous_id
  -- The snapshot is at most a day old and its sampled profiles at most 7 days older: 8 days of partitions.
  WHERE e.dt >= CAST(CAST(current_date - INTERVAL '8' DAY AS date) AS varchar)
),
lake AS (
  SELECT
    o.owner AS user_id,
    o.event_type,
    count(DISTINCT o.event_id) FILTER (WHERE o.dt < s.snapshot) AS lake_count,
    count(*) FILTER (WHERE o.dt >= s.snapshot) AS events_since_snapshot
  FROM owned o
  JOIN sampled s ON o.owner = s.user_id
  GROUP BY o.owner, o.event_type
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
