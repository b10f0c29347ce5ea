-- The topic's title as it was before an edit of its first post (NULL for replies and for
-- revisions kept before titles were), so the edit history shows title changes too.
ALTER TABLE post_revisions ADD COLUMN title TEXT;
