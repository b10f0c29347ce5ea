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
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    mode TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
INSERT INTO notify_prefs (user_id, kind, mode) SELECT id, 'reply', 'off' FROM users WHERE email_replies = 0;
INSERT INTO notify_prefs (user_id, kind, mode) SELECT id, 'mention', 'off' FROM users WHERE email_replies = 0;
ALTER TABLE users DROP COLUMN email_replies;
ALTER TABLE users ADD COLUMN quiet_from BIGINT;
ALTER TABLE users ADD COLUMN quiet_until BIGINT;

ALTER TABLE notifications ALTER COLUMN post_id DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';
ALTER TABLE notifications ADD COLUMN ref_id BIGINT;
ALTER TABLE notifications ADD COLUMN title TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN path TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN listed BIGINT NOT NULL DEFAULT 1;
ALTER TABLE notifications ADD COLUMN read_at BIGINT;
UPDATE notifications SET kind = 'mention' WHERE mentioned = 1;
UPDATE notifications SET read_at = mailed_at;
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL AND listed = 1;
CREATE INDEX notifications_listed ON notifications (user_id, id) WHERE listed = 1;
CREATE INDEX notifications_ref ON notifications (kind, ref_id) WHERE ref_id IS NOT NULL;
