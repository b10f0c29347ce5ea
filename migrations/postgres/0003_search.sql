-- Search: the normalized text of every visible post, and its trigram indexes.
--
-- `post_search` holds one row per post that is not deleted: the post's text as the search sees it
-- (NFKC, lower case, katakana folded to hiragana, equivalent terms folded; computed in Rust at
-- write time, see src/forums/search/normalize.rs), the topic's title for a topic's first post
-- ('' otherwise), and the category and time a result needs for visibility and ranking. It is kept
-- apart from `posts` so that finding and ranking read only this narrow table.
-- Rows for posts written before this migration are filled in at startup (db::search::backfill).
--
-- pg_trgm makes trigrams of Japanese text only in a UTF-8 locale: create the cluster with
-- --locale=C.UTF-8 (under the C locale LIKE stays correct but is not indexed).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE post_search (
    post_id BIGINT PRIMARY KEY REFERENCES posts (id),
    category_id BIGINT NOT NULL REFERENCES categories (id),
    created_at BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX post_search_category ON post_search (category_id);
CREATE INDEX post_search_body_trgm ON post_search USING gin (body gin_trgm_ops);
CREATE INDEX post_search_title_trgm ON post_search USING gin (title gin_trgm_ops);

-- Terms of 1 or 2 characters cannot use trigrams. This index holds every distinct 1- and
-- 2-character piece ("gram") of a post's title and body (the text is normalized, all whitespace
-- a plain space, so a gram with a space in it is never searched for); a short term is then one
-- index lookup (`@>`) instead of a scan of every post.
CREATE FUNCTION search_grams(t TEXT) RETURNS TEXT[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g), ARRAY[]::TEXT[])
    FROM (
        SELECT substr(t, i, 1) AS g FROM generate_series(1, length(t)) AS i
        UNION ALL
        SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i
    ) AS grams
    WHERE strpos(g, ' ') = 0
$$;
CREATE INDEX post_search_grams ON post_search USING gin (search_grams(title || ' ' || body));

-- Equivalent terms, editable by coordinators at /admin/search-terms: each row is one group of
-- terms separated by spaces; the first is the form every other one is folded to.
CREATE TABLE search_term_groups (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    terms TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO search_term_groups (terms, created_at) VALUES
    ('がん 癌 ガン', 1795564800),
    ('抗がん剤 抗癌剤 抗ガン剤', 1795564800);
