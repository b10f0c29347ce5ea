-- Background jobs: long work (re-normalising the search text after the equivalent terms change;
-- later exports and large invitation batches) runs in small batches, each its own short
-- transaction, with its progress kept here. The PostgreSQL migration of the same number has the
-- same schema.
--
-- `kind` names the Rust enum's variant (src/jobs); `job_key` tells apart jobs of one kind that may
-- run side by side (an export per member); '' when a kind has at most one open job. `payload` is
-- the kind's own JSON. `stage` and `cursor_id` are where the job has got to (a stage of its work,
-- and the last id done in it); `done` of `total` is the progress shown. A running job holds a
-- lease (`lease_owner` until `lease_until`); once it expires, another worker takes the job up
-- again from its cursor_id.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    job_key TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    payload TEXT NOT NULL DEFAULT '{}',
    started_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    stage INTEGER NOT NULL DEFAULT 0,
    cursor_id INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    lease_owner TEXT,
    lease_until INTEGER,
    error TEXT
);
-- At most one open job of a kind and key: a second change joins the open one.
CREATE UNIQUE INDEX jobs_open ON jobs (kind, job_key) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_kind_recent ON jobs (kind, id);
