-- Background jobs: long work (re-normalising the search text after the equivalent terms change;
-- later exports and large invitation batches) runs in small batches, each its own short
-- transaction, with its progress kept here. The SQLite migration of the same number has the
-- same schema.
--
-- `kind` names the Rust enum's variant (src/jobs); `job_key` tells apart jobs of one kind that may
-- run side by side (an export per member); '' when a kind has at most one open job. `payload` is
-- the kind's own JSON. `stage` and `cursor_id` are where the job has got to (a stage of its work,
-- and the last id done in it); `done` of `total` is the progress shown. A running job holds a
-- lease (`lease_owner` until `lease_until`); once it expires, another worker takes the job up
-- again from its cursor_id.
CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    job_key TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    payload TEXT NOT NULL DEFAULT '{}',
    started_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    stage BIGINT NOT NULL DEFAULT 0,
    cursor_id BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    error TEXT
);
-- At most one open job of a kind and key: a second change joins the open one.
CREATE UNIQUE INDEX jobs_open ON jobs (kind, job_key) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_kind_recent ON jobs (kind, id);
