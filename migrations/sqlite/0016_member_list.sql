-- The staff's member list (`/admin/members`) is ordered by when members joined and filtered by
-- the month they joined. The PostgreSQL migration of the same number has the same schema.
CREATE INDEX users_created ON users (created_at, id);
