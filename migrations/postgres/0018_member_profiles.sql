-- What a member tells about themselves, each field shown to other members only when they choose:
-- their relation (set by the coordinator who invited them), the kind of cancer, the treatment
-- stage, the work situation and a short introduction. Nothing is shown by default.
CREATE TABLE member_profiles (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    cancer TEXT NOT NULL DEFAULT '',
    stage TEXT NOT NULL DEFAULT '',
    work TEXT NOT NULL DEFAULT '',
    introduction TEXT NOT NULL DEFAULT '',
    show_relation BIGINT NOT NULL DEFAULT 0,
    show_cancer BIGINT NOT NULL DEFAULT 0,
    show_stage BIGINT NOT NULL DEFAULT 0,
    show_work BIGINT NOT NULL DEFAULT 0,
    show_introduction BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
