-- A member's export of their own data: prepared by a background job (`jobs`, kind
-- 'account.export', keyed by the member's id) into parts, one section's rows at a time, then
-- offered by a link mailed to the member. The link's secret is stored hashed, works once (for
-- the member's own session) and expires; the parts are deleted when it is used or expires. The
-- PostgreSQL migration of the same number has the same schema.
CREATE TABLE data_exports (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    job_id BIGINT NOT NULL REFERENCES jobs (id),
    token_hash TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    ready_at BIGINT,
    expires_at BIGINT,
    downloaded_at BIGINT
);
CREATE INDEX data_exports_user ON data_exports (user_id, id);
CREATE UNIQUE INDEX data_exports_job ON data_exports (job_id);

-- Each part holds one section's rows (a JSON array's items, comma-separated), in order.
CREATE TABLE data_export_parts (
    export_id BIGINT NOT NULL REFERENCES data_exports (id),
    seq BIGINT NOT NULL,
    section TEXT NOT NULL,
    rows_json TEXT NOT NULL,
    PRIMARY KEY (export_id, seq)
);

-- An export (and an account's deletion) reads a member's rows of each table by the member: the
-- tables not yet indexed by their member get an index, so neither scans a whole table inside
-- the write transaction of a batch.
CREATE INDEX post_reactions_user ON post_reactions (user_id);
CREATE INDEX topics_author ON topics (author_id);
CREATE INDEX reports_reporter ON reports (reporter_id);
