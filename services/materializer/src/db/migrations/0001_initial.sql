-- Every id is a UUID from the events; nothing here is auto-incremented.
CREATE TABLE calls (
  call_id uuid PRIMARY KEY,
  event_id uuid NOT NULL,
  tenant_id uuid NOT NULL,
  group_id uuid NOT NULL,
  participant_user_ids uuid[] NOT NULL,
  origin_site text NOT NULL,
  recorder_id text NOT NULL,
  direction text NOT NULL,
  caller_number text NOT NULL,
  caller_name text,
  callee_number text NOT NULL,
  callee_name text,
  started_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL,
  duration_ms bigint NOT NULL,
  attributes jsonb NOT NULL,
  audio_origin_object_key text,
  audio_size_bytes bigint,
  audio_sha256 text,
  audio_content_type text,
  audio_codec text,
  audio_channels integer,
  audio_sample_rate_hz integer,
  audio_state text NOT NULL CHECK (audio_state IN ('pending', 'present', 'failed', 'none')),
  local_object_key text,
  source_topic text NOT NULL,
  source_partition integer NOT NULL,
  source_offset bigint NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_tenant_started ON calls (tenant_id, started_at);
CREATE INDEX calls_audio_pending ON calls (call_id) WHERE audio_state = 'pending';

CREATE TABLE users (
  user_id uuid PRIMARY KEY,
  tenant_id uuid NOT NULL,
  group_id uuid NOT NULL,
  deleted boolean NOT NULL,
  name text,
  email text,
  extensions text[],
  role text,
  active boolean,
  -- Merge of the versions of every applied event (a version vector).
  version jsonb NOT NULL,
  -- The canonical merge state (serializeUserState): the visible columns are derived from it.
  state jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_tenant ON users (tenant_id);

CREATE TABLE conflicts (
  user_id uuid NOT NULL REFERENCES users (user_id),
  field text NOT NULL,
  siblings jsonb NOT NULL,
  winner jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'resolved-by-policy')),
  detected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, field)
);

CREATE TABLE audio_transfers (
  call_id uuid PRIMARY KEY REFERENCES calls (call_id),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  -- Per attempt: which sources were tried and how each failed.
  sources_tried jsonb NOT NULL DEFAULT '[]',
  bytes_copied bigint NOT NULL DEFAULT 0,
  completed_at timestamptz
);
CREATE INDEX audio_transfers_due ON audio_transfers (next_attempt_at) WHERE completed_at IS NULL;

CREATE TABLE dlq_records (
  id uuid PRIMARY KEY,
  reason text NOT NULL,
  source_topic text,
  source_partition integer,
  source_offset bigint,
  call_id uuid,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
