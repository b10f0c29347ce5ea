-- Notification preferences: per member and per kind of e-mail (reply, mention, answer, cafe,
-- announcement) off, at once ('now') or in a daily digest; no row means 'now'. A quiet-hours
-- window per member (minutes after local midnight; NULL for none). The single reply switch
-- (users.email_replies) becomes 'off' rows for replies and mentions.
--
-- The notifications table now holds every kind of notice, for mail and for the in-site list:
-- post_id for replies and mentions, ref_id for what other kinds are about (an announcement, a
-- café session, a Q&A answer), title and path for kinds whose rows are not in this schema;
-- listed = 0 for notices that are mail only (café reminders); read_at once read in the site.

CREATE TABLE notify_prefs (
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    mode TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
INSERT INTO notify_prefs (user_id, kind, mode) SELECT id, 'reply', 'off' FROM users WHERE email_replies = 0;
INSERT INTO notify_prefs (user_id, kind, mode) SELECT id, 'mention', 'off' FROM users WHERE email_replies = 0;
ALTER TABLE users DROP COLUMN email_replies;
ALTER TABLE users ADD COLUMN quiet_from INTEGER;
ALTER TABLE users ADD COLUMN quiet_until INTEGER;

CREATE TABLE notifications_new (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL DEFAULT 'reply',
    post_id INTEGER REFERENCES posts (id),
    ref_id INTEGER,
    title TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    mentioned INTEGER NOT NULL DEFAULT 0,
    listed INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    mailed_at INTEGER,
    read_at INTEGER,
    UNIQUE (user_id, post_id)
);
INSERT INTO notifications_new (id, user_id, kind, post_id, mentioned, created_at, mailed_at, read_at)
    SELECT id, user_id, CASE WHEN mentioned = 1 THEN 'mention' ELSE 'reply' END, post_id, mentioned,
           created_at, mailed_at, mailed_at
    FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_pending ON notifications (user_id) WHERE mailed_at IS NULL;
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL AND listed = 1;
CREATE INDEX notifications_listed ON notifications (user_id, id) WHERE listed = 1;
CREATE INDEX notifications_ref ON notifications (kind, ref_id) WHERE ref_id IS NOT NULL;
