-- Reactions of support on posts, what each member has read of each topic, and blocking.

-- One of each kind per member and post: ありがとう (thanks), 共感 (empathy), 応援してます (cheer).
CREATE TABLE post_reactions (
    post_id BIGINT NOT NULL REFERENCES posts (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('thanks', 'empathy', 'cheer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (post_id, user_id, kind)
);

-- The highest post id a member has seen in a topic.
CREATE TABLE topic_reads (
    user_id BIGINT NOT NULL REFERENCES users (id),
    topic_id BIGINT NOT NULL REFERENCES topics (id),
    last_read_post_id BIGINT NOT NULL,
    read_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, topic_id)
);

-- A member (blocker) who does not want to see another's (blocked) posts. The blocked member is
-- not told, and neither is notified of the other.
CREATE TABLE user_blocks (
    blocker_id BIGINT NOT NULL REFERENCES users (id),
    blocked_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX user_blocks_blocked ON user_blocks (blocked_id);

CREATE INDEX topics_activity ON topics (last_posted_at);
