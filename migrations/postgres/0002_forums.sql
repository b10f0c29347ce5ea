-- Forums: categories, topics, posts and the edit history of posts.

CREATE TABLE categories (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL,
    -- Lowest role that may see the category (0 member, 1 expert, 2 moderator, 3 coordinator).
    min_role_rank BIGINT NOT NULL DEFAULT 0,
    -- When set, only members of this relation (and staff) see it.
    only_relation TEXT CHECK (only_relation IN ('patient', 'family', 'supporter')),
    archived_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE topics (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_id BIGINT NOT NULL REFERENCES categories (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    title TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_posted_at BIGINT NOT NULL,
    reply_count BIGINT NOT NULL DEFAULT 0,
    pinned_at BIGINT,
    closed_at BIGINT
);
CREATE INDEX topics_category_activity ON topics (category_id, last_posted_at);

CREATE TABLE posts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic_id BIGINT NOT NULL REFERENCES topics (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    edited_at BIGINT,
    deleted_at BIGINT
);
CREATE INDEX posts_topic ON posts (topic_id, id);

-- The text of a post before each edit.
CREATE TABLE post_revisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id BIGINT NOT NULL REFERENCES posts (id),
    body_markdown TEXT NOT NULL,
    edited_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX post_revisions_post ON post_revisions (post_id, id);

-- The default categories; coordinators edit, order and archive them.
INSERT INTO categories (name, description, position, min_role_rank, only_relation, created_at) VALUES
    ('治療のこと', '治療や通院、副作用とのつきあい方など、経験を分かち合う場所です。', 1, 0, NULL, 1795564800),
    ('仕事とお金', '働き方、職場への伝え方、制度やお金のことを話し合う場所です。', 2, 0, NULL, 1795564800),
    ('暮らし', '食事、眠り、気分転換など、毎日の暮らしの工夫を分かち合う場所です。', 3, 0, NULL, 1795564800),
    ('家族の部屋', 'ご家族どうしで話せる場所です（ご家族とスタッフだけが見られます）。', 4, 0, 'family', 1795564800),
    ('雑談', '気軽なおしゃべりの場所です。', 5, 0, NULL, 1795564800),
    ('専門家とスタッフ', '専門家とスタッフの連絡用です（メンバーには表示されません）。', 6, 1, NULL, 1795564800);
