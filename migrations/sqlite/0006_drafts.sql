-- Drafts of topics and replies, kept on the server while they are written, so a locked phone
-- or a lost connection never loses a long post.

CREATE TABLE drafts (
    user_id INTEGER NOT NULL REFERENCES users (id),
    -- "topic:<category id>" for a new topic, "reply:<topic id>" for a reply.
    place TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, place)
);
