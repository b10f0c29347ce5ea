-- Expert Q&A: experts' profiles, the slots they hold, the questions members ask ahead and the
-- answers published during a slot.

-- An expert's profile, shown on their slots. The display name is the account's.
CREATE TABLE expert_profiles (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    qualification TEXT NOT NULL,
    introduction TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);

-- A slot: questions are taken until `deadline_at` (at most `capacity` accepted), answered from
-- `starts_at` to `ends_at` (Unix seconds). `publish_answers`: shared answers join the archive
-- afterwards. `follow_ups`: askers may add a follow-up question during the slot.
-- `last_seq` numbers the slot's live changes (an answer published, changed or withdrawn): taking
-- the next one locks the slot's row, so changes commit in the order of their numbers.
CREATE TABLE qa_slots (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    expert_id BIGINT NOT NULL REFERENCES users (id),
    theme TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    capacity BIGINT NOT NULL,
    publish_answers BIGINT NOT NULL DEFAULT 1,
    follow_ups BIGINT NOT NULL DEFAULT 0,
    last_seq BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    cancelled_at BIGINT,
    CHECK (ends_at > starts_at),
    CHECK (capacity > 0)
);
CREATE INDEX qa_slots_starts ON qa_slots (starts_at);
CREATE INDEX qa_slots_expert ON qa_slots (expert_id, starts_at);

-- A question. `body` is what the expert (and, when it is shared, other members) read; when a
-- moderator took personal details out of it, the asker's own words stay in `original_body` for
-- staff and `redaction_note` says so to everyone. Status: pending (waiting for screening; `held`
-- when a watched word asks staff to look first), accepted, declined (`status_reason` is shown to
-- the asker), merged (into `merged_into`, whose answer answers it too), withdrawn by the asker,
-- hidden by a moderator. A follow-up has the question it follows as `parent_id`.
CREATE TABLE qa_questions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slot_id BIGINT NOT NULL REFERENCES qa_slots (id),
    asker_id BIGINT NOT NULL REFERENCES users (id),
    parent_id BIGINT REFERENCES qa_questions (id),
    body TEXT NOT NULL,
    original_body TEXT,
    redaction_note TEXT NOT NULL DEFAULT '',
    shared BIGINT NOT NULL,
    anonymous BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'accepted', 'declined', 'merged', 'withdrawn', 'hidden')),
    status_reason TEXT NOT NULL DEFAULT '',
    held BIGINT NOT NULL DEFAULT 0,
    flagged_at BIGINT,
    merged_into BIGINT REFERENCES qa_questions (id),
    screened_by BIGINT REFERENCES users (id),
    screened_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX qa_questions_slot ON qa_questions (slot_id, status);
CREATE INDEX qa_questions_asker ON qa_questions (asker_id);
CREATE INDEX qa_questions_waiting ON qa_questions (created_at) WHERE status = 'pending';

-- The expert's answer to a question: a draft until published; held (a watched word) until a
-- moderator approves it; hidden by a moderator. `seq` is the slot change that last changed it.
-- `search_text` is the question and answer as the archive's search reads them (normalized).
CREATE TABLE qa_answers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    question_id BIGINT NOT NULL UNIQUE REFERENCES qa_questions (id),
    slot_id BIGINT NOT NULL REFERENCES qa_slots (id),
    expert_id BIGINT NOT NULL REFERENCES users (id),
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'published', 'held', 'hidden')),
    status_reason TEXT NOT NULL DEFAULT '',
    flagged_at BIGINT,
    search_text TEXT NOT NULL DEFAULT '',
    seq BIGINT NOT NULL DEFAULT 0,
    published_at BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX qa_answers_slot_seq ON qa_answers (slot_id, seq);
CREATE INDEX qa_answers_published ON qa_answers (published_at) WHERE status = 'published';
