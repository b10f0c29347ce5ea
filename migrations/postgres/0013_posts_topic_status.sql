-- A topic's posts as each reader sees them (held posts only for their author and staff) are
-- counted and paged from the index alone: status and author are in it, so no post's text is
-- read to count the posts before it. Replaces the index on (topic_id, id), which it extends.
CREATE INDEX posts_topic_seen ON posts (topic_id, id, status, author_id);
DROP INDEX posts_topic;
