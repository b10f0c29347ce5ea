-- Search text becomes the text a reader sees rather than the Markdown typed (no `**`, list marks
-- or link addresses), and the trigram index keeps no positions: searches no longer use FTS5's
-- phrase match, whose cost grew with repeated text, but a few trigrams and an exact check
-- (see db::search::search_sql).
--
-- Every row is removed here (the triggers take the old index along) and written again from the
-- posts by the startup backfill (db::search::backfill), with the new text.
DELETE FROM post_search;
DELETE FROM post_search_grams;
DROP TABLE post_search_fts;
CREATE VIRTUAL TABLE post_search_fts USING fts5 (
    title, body, content = 'post_search', content_rowid = 'post_id', tokenize = 'trigram',
    detail = 'none'
);
