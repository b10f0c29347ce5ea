-- What each display name looks like (its UTS #39 confusable skeleton, case folded; see
-- `account::rules::look_alike_key`): no two members may have names that look the same. The
-- application computes it, so existing members get theirs at start-up; until then it is NULL,
-- which a unique index allows more than once.
ALTER TABLE users ADD COLUMN display_name_skeleton TEXT;
CREATE UNIQUE INDEX users_display_name_skeleton ON users (display_name_skeleton);
