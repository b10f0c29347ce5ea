-- Account deletion: a member who leaves keeps only a tombstone row in `users` (so that content
-- they chose to keep still has an author), marked by `deleted_at`. The status stays
-- 'deactivated' (its CHECK cannot be widened in SQLite without rebuilding the table every other
-- table refers to there): `deleted_at` is what says the account was deleted and can never be
-- reactivated. What deletion does to every table is in src/db/member_data.rs. The SQLite
-- migration of the same number has the same schema.
ALTER TABLE users ADD COLUMN deleted_at BIGINT;
