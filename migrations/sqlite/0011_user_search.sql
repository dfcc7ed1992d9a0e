-- The user search runs in SQL (`DirectoryStore::search_users`): every field
-- it filters or sorts on becomes a column. The `*_norm` columns hold the
-- value lowercased by Gatehouse (Unicode-aware, the same on both backends),
-- so a case-insensitive compare is a plain `=` or `LIKE` on them. Existing
-- rows are filled from `body` by the store right after this migration.
ALTER TABLE users ADD COLUMN name_norm TEXT;
ALTER TABLE users ADD COLUMN nickname_norm TEXT;
ALTER TABLE users ADD COLUMN given_name_norm TEXT;
ALTER TABLE users ADD COLUMN family_name_norm TEXT;
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login INTEGER;
ALTER TABLE users ADD COLUMN logins_count INTEGER NOT NULL DEFAULT 0;
-- An exact email search across connections, users-by-email, sorting by email.
CREATE INDEX users_email_norm ON users (email_norm, user_id);
-- The default order (oldest first) and the sorts the dashboard offers.
CREATE INDEX users_created_at ON users (created_at, user_id);
CREATE INDEX users_name_norm ON users (name_norm, user_id);
-- Sorting by last login, and the active-users statistic.
CREATE INDEX users_last_login ON users (last_login, user_id);
-- The daily statistics count logins and signups per day.
CREATE INDEX log_events_type_date ON log_events (type, date);
