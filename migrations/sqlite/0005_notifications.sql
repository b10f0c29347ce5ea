-- Following topics and categories, the notifications waiting to be mailed, e-mail preferences,
-- announcements, and the site's own secret for signed links.

CREATE TABLE topic_subscriptions (
    user_id INTEGER NOT NULL REFERENCES users (id),
    topic_id INTEGER NOT NULL REFERENCES topics (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, topic_id)
);
CREATE INDEX topic_subscriptions_topic ON topic_subscriptions (topic_id);

CREATE TABLE category_subscriptions (
    user_id INTEGER NOT NULL REFERENCES users (id),
    category_id INTEGER NOT NULL REFERENCES categories (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, category_id)
);
CREATE INDEX category_subscriptions_category ON category_subscriptions (category_id);

-- A new post someone follows; mailed in batches, so a busy thread sends one mail, not dozens.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    post_id INTEGER NOT NULL REFERENCES posts (id),
    created_at INTEGER NOT NULL,
    mailed_at INTEGER,
    UNIQUE (user_id, post_id)
);
CREATE INDEX notifications_pending ON notifications (user_id) WHERE mailed_at IS NULL;

ALTER TABLE users ADD COLUMN email_replies INTEGER NOT NULL DEFAULT 1;

CREATE TABLE announcements (
    id INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    emailed INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    archived_at INTEGER
);

CREATE TABLE site_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
