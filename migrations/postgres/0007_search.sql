-- Search text becomes the text a reader sees rather than the Markdown typed (no `**`, list marks
-- or link addresses). Every row is removed here and written again from the posts by the startup
-- backfill (db::search::backfill), with the new text.
DELETE FROM post_search;

-- The grams of a text, now in one pass over its characters: `substr(t, i, …)` for every i read
-- the text from its start each time, so a long post took seconds to index (and, where the planner
-- computed this for rows instead of using the index, to search). Same results as before. Its cost
-- is declared high so that the planner reads the index rather than computing it for rows.
CREATE OR REPLACE FUNCTION search_grams(t TEXT) RETURNS TEXT[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 10000 AS $$
    SELECT coalesce(array_agg(DISTINCT g), ARRAY[]::TEXT[])
    FROM (
        SELECT c, lead(c) OVER (ORDER BY i) AS next
        FROM unnest(string_to_array(t, NULL)) WITH ORDINALITY AS u (c, i)
    ) AS chars,
    LATERAL (VALUES (c), (c || next)) AS grams (g)
    WHERE g IS NOT NULL AND strpos(g, ' ') = 0
$$;
REINDEX INDEX post_search_grams;
