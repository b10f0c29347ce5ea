-- Search: the normalized text of every visible post, and its trigram index.
--
-- `post_search` holds one row per post that is not deleted: the post's text as the search sees it
-- (NFKC, lower case, katakana folded to hiragana, equivalent terms folded; computed in Rust at
-- write time, see src/forums/search/normalize.rs), the topic's title for a topic's first post
-- ('' otherwise), and the category and time a result needs for visibility and ranking. It is kept
-- apart from `posts` so that finding and ranking read only this narrow table.
-- Rows for posts written before this migration are filled in at startup (db::search::backfill).
CREATE TABLE post_search (
    post_id INTEGER PRIMARY KEY REFERENCES posts (id),
    category_id INTEGER NOT NULL REFERENCES categories (id),
    created_at INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX post_search_category ON post_search (category_id);

-- External-content FTS5 over post_search with the trigram tokenizer (substrings of 3 or more
-- characters, so Japanese needs no word splitting). External content: the text is stored once,
-- in post_search. Triggers, rather than the write path, keep the index in step: every change to
-- post_search (a post, an edit, a deletion, a re-normalization after the equivalent terms change,
-- the startup backfill) updates the index in the same statement, so the two cannot drift apart.
CREATE VIRTUAL TABLE post_search_fts USING fts5 (
    title, body, content = 'post_search', content_rowid = 'post_id', tokenize = 'trigram'
);
CREATE TRIGGER post_search_ai AFTER INSERT ON post_search BEGIN
    INSERT INTO post_search_fts (rowid, title, body) VALUES (new.post_id, new.title, new.body);
END;
CREATE TRIGGER post_search_ad AFTER DELETE ON post_search BEGIN
    INSERT INTO post_search_fts (post_search_fts, rowid, title, body)
        VALUES ('delete', old.post_id, old.title, old.body);
END;
CREATE TRIGGER post_search_au AFTER UPDATE OF title, body ON post_search BEGIN
    INSERT INTO post_search_fts (post_search_fts, rowid, title, body)
        VALUES ('delete', old.post_id, old.title, old.body);
    INSERT INTO post_search_fts (rowid, title, body) VALUES (new.post_id, new.title, new.body);
END;

-- Terms of 1 or 2 characters cannot use trigrams. A second, contentless FTS5 table holds every
-- distinct 1- and 2-character piece ("gram") of a post's title and body, each written as a token
-- of hex digits (so that the `ascii` tokenizer keeps any character, punctuation included); the
-- write path (db::search::index_post) fills it from Rust in the same transaction as post_search.
-- A short term is then one token lookup instead of a scan of every post.
CREATE VIRTUAL TABLE post_search_grams USING fts5 (
    grams, content = '', contentless_delete = 1, tokenize = 'ascii'
);

-- Equivalent terms, editable by coordinators at /admin/search-terms: each row is one group of
-- terms separated by spaces; the first is the form every other one is folded to.
CREATE TABLE search_term_groups (
    id INTEGER PRIMARY KEY,
    terms TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO search_term_groups (terms, created_at) VALUES
    ('がん 癌 ガン', 1795564800),
    ('抗がん剤 抗癌剤 抗ガン剤', 1795564800);
