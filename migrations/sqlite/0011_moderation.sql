-- Moderation and safety: the status of content, watched and crisis words, reports, alerts,
-- silenced and suspended members, staff notes, site settings, and the typed log.

-- A post is published, held for review (first posts, a watched word) or hidden by a moderator.
-- `status_reason` is what the author is shown: a reason code for held posts, the moderator's
-- words for hidden ones. A topic mirrors its first post's status, so listings need no join.
ALTER TABLE posts ADD COLUMN status TEXT NOT NULL DEFAULT 'published'
    CHECK (status IN ('published', 'held', 'hidden'));
ALTER TABLE posts ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN status_changed_at INTEGER;
-- Published but marked by a watched word for a moderator to look at, until reviewed.
ALTER TABLE posts ADD COLUMN flagged_at INTEGER;
-- Edited by a moderator: the post shows a note saying so.
ALTER TABLE posts ADD COLUMN moderator_edited_at INTEGER;
CREATE INDEX posts_held ON posts (status, id) WHERE status <> 'published';
CREATE INDEX posts_flagged ON posts (flagged_at) WHERE flagged_at IS NOT NULL;
CREATE INDEX posts_author ON posts (author_id, id);
ALTER TABLE topics ADD COLUMN status TEXT NOT NULL DEFAULT 'published'
    CHECK (status IN ('published', 'held', 'hidden'));

-- Silenced: reads but does not write until the time. Suspended: cannot log in until the time.
ALTER TABLE users ADD COLUMN silenced_until INTEGER;
ALTER TABLE users ADD COLUMN silence_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN suspended_until INTEGER;
ALTER TABLE users ADD COLUMN suspend_reason TEXT NOT NULL DEFAULT '';

-- Words moderators watch for. Matched on normalised text (see `text`), stored as typed.
CREATE TABLE watched_words (
    id INTEGER PRIMARY KEY,
    word TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('block', 'hold', 'flag')),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);

-- Expressions of crisis: a post carrying one goes through, and moderators are alerted.
CREATE TABLE crisis_words (
    id INTEGER PRIMARY KEY,
    word TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);
INSERT INTO crisis_words (word, created_at) VALUES
    ('死にたい', 0), ('消えたい', 0), ('生きていたくない', 0), ('生きていても仕方ない', 0),
    ('死んでしまいたい', 0), ('自殺', 0), ('楽になりたい', 0), ('いなくなりたい', 0),
    ('終わりにしたい', 0), ('want to die', 0), ('kill myself', 0), ('end my life', 0),
    ('suicide', 0), ('no reason to live', 0);

-- Members' reports on content. One open report per member per item.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    reporter_id INTEGER NOT NULL REFERENCES users (id),
    target_kind TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    subject_user_id INTEGER REFERENCES users (id),
    reason TEXT NOT NULL CHECK (reason IN
        ('harassment', 'misinformation', 'advertising', 'private_information', 'worried', 'other')),
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by INTEGER REFERENCES users (id),
    resolution TEXT CHECK (resolution IN ('hidden', 'dismissed', 'member_action')),
    resolution_note TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX reports_one_open ON reports (reporter_id, target_kind, target_id)
    WHERE resolved_at IS NULL;
CREATE INDEX reports_open ON reports (target_kind, target_id) WHERE resolved_at IS NULL;

-- Urgent items: crisis words in content, "worried about this person" reports. Open until a
-- moderator acknowledges them.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    cause TEXT NOT NULL CHECK (cause IN ('crisis_words', 'worried_report')),
    target_kind TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    subject_user_id INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by INTEGER REFERENCES users (id)
);
CREATE INDEX alerts_open ON alerts (created_at) WHERE acknowledged_at IS NULL;

-- Notes staff leave on a queue item or a member, to hand a case over.
CREATE TABLE staff_notes (
    id INTEGER PRIMARY KEY,
    target_kind TEXT NOT NULL,
    target_id INTEGER NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX staff_notes_target ON staff_notes (target_kind, target_id, id);

-- Settings coordinators change without a restart.
CREATE TABLE site_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The log becomes typed: what was acted on is a kind and an id, the reason a column of its own.
ALTER TABLE audit_log ADD COLUMN target_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN target_id INTEGER;
ALTER TABLE audit_log RENAME COLUMN detail TO reason;
CREATE INDEX audit_log_action ON audit_log (action, created_at);
CREATE INDEX audit_log_subject ON audit_log (subject_user_id, created_at);
-- Nobody edits or deletes the log, whatever path they take.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the log cannot be changed'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the log cannot be changed'); END;
