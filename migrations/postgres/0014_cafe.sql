-- The peer-support café: rooms, their scheduled sessions (one-off or from a recurrence rule),
-- the messages written in them, mutes for a session, reminders members asked for, and whether a
-- member shows in a room's presence list.

-- A room is open to a role and relation like a category. Outside its sessions it is read-only
-- (history shown, nobody but staff writes) or closed (nothing shown but the schedule).
-- `last_seq` numbers the room's changes (a message written, approved or removed): updating it
-- takes the room's row lock, so changes commit in the order of their numbers and a client that
-- saw change N gets exactly the changes after N when it reconnects.
CREATE TABLE cafe_rooms (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT,
    description TEXT NOT NULL DEFAULT '',
    description_en TEXT,
    position BIGINT NOT NULL,
    min_role_rank BIGINT NOT NULL DEFAULT 0,
    only_relation TEXT CHECK (only_relation IN ('patient', 'family', 'supporter')),
    outside_sessions TEXT NOT NULL DEFAULT 'read_only'
        CHECK (outside_sessions IN ('read_only', 'closed')),
    last_seq BIGINT NOT NULL DEFAULT 0,
    archived_at BIGINT,
    created_at BIGINT NOT NULL
);

-- A rule that made several sessions ("weekly", "the 2nd and 4th Thursday"), kept so that the
-- series can be shown, extended or cancelled together.
CREATE TABLE cafe_series (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES cafe_rooms (id),
    rule TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL
);

-- A session: the room is open for writing from `starts_at` to `ends_at` (Unix seconds). The
-- facilitator (any member named for it) moderates the room during the session, as moderators do.
-- Slow mode and pause are set live by the facilitator or a moderator.
CREATE TABLE cafe_sessions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES cafe_rooms (id),
    series_id BIGINT REFERENCES cafe_series (id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    theme TEXT NOT NULL DEFAULT '',
    facilitator_id BIGINT REFERENCES users (id),
    slow_mode_seconds BIGINT NOT NULL DEFAULT 0,
    paused_at BIGINT,
    cancelled_at BIGINT,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX cafe_sessions_room ON cafe_sessions (room_id, starts_at);
CREATE INDEX cafe_sessions_starts ON cafe_sessions (starts_at);

-- A message is published, held for review (a watched word), hidden by the facilitator or a
-- moderator, or deleted by its author. `seq` is the room change that last changed it.
CREATE TABLE cafe_messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES cafe_rooms (id),
    session_id BIGINT REFERENCES cafe_sessions (id),
    author_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'published'
        CHECK (status IN ('published', 'held', 'hidden', 'deleted')),
    status_reason TEXT NOT NULL DEFAULT '',
    status_changed_at BIGINT,
    status_changed_by BIGINT REFERENCES users (id),
    flagged_at BIGINT,
    seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX cafe_messages_seq ON cafe_messages (room_id, seq);
CREATE INDEX cafe_messages_room ON cafe_messages (room_id, id);
CREATE INDEX cafe_messages_author ON cafe_messages (author_id, id);
CREATE INDEX cafe_messages_held ON cafe_messages (status, id) WHERE status = 'held';

-- Muted for the rest of a session: reads, does not write.
CREATE TABLE cafe_mutes (
    session_id BIGINT NOT NULL REFERENCES cafe_sessions (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    muted_by BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, user_id)
);

-- "Remind me by e-mail": sent once, through the outbox, shortly before the session.
CREATE TABLE cafe_reminders (
    session_id BIGINT NOT NULL REFERENCES cafe_sessions (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX cafe_reminders_due ON cafe_reminders (session_id) WHERE sent_at IS NULL;

-- A member who would rather not appear in rooms' presence lists.
ALTER TABLE users ADD COLUMN cafe_invisible BIGINT NOT NULL DEFAULT 0;

-- The non-profit's three cafés, which coordinators rename, restrict or archive.
INSERT INTO cafe_rooms (name, name_en, description, description_en, position, only_relation, created_at) VALUES
    ('みんなのカフェ', 'Everyone''s café', 'どなたでも参加できるカフェです。', 'A café open to everyone.', 1, NULL, 0),
    ('家族のカフェ', 'Family café', 'ご家族の方のためのカフェです。', 'A café for family members.', 2, 'family', 0),
    ('働きながら治療する人のカフェ', 'Café for people working through treatment', '仕事と治療の両立について話すカフェです。', 'A café about working while being treated.', 3, NULL, 0);
