-- Auth0's log event fields (auth0-compat.md §12) as columns, so the
-- Management API can filter on them and `gatehouse explain` can find the
-- event of a token by its jti. Opaque tokens get a jti too: it keys their
-- issuance event, since the token itself is stored only as a hash.
ALTER TABLE log_events ADD COLUMN jti TEXT;
ALTER TABLE log_events ADD COLUMN ip TEXT;
ALTER TABLE log_events ADD COLUMN user_agent TEXT;
ALTER TABLE log_events ADD COLUMN client_name TEXT;
ALTER TABLE log_events ADD COLUMN user_name TEXT;
ALTER TABLE log_events ADD COLUMN audience TEXT;
ALTER TABLE log_events ADD COLUMN scope TEXT;
CREATE INDEX log_events_jti ON log_events (jti);
CREATE INDEX log_events_client ON log_events (client_id, date);
CREATE INDEX log_events_user ON log_events (user_id, date);
ALTER TABLE opaque_tokens ADD COLUMN jti TEXT;
