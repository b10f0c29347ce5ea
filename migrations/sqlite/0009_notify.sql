-- Whether a waiting notification is for a mention (following is checked again when mailing, so
-- it is not stored), and the one-click unsubscribe link a mail carries in its List-Unsubscribe
-- header (RFC 8058).

ALTER TABLE notifications ADD COLUMN mentioned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN list_unsubscribe TEXT;
