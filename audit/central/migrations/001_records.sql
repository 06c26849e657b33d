-- Records shipped from every host's local store: the chain fields intact, so
-- the central copy can be verified host by host without trusting the shipper.
CREATE TABLE hosts (
	host       TEXT PRIMARY KEY,
	head_seq   BIGINT NOT NULL DEFAULT 0,  -- the newest record shipped
	head_hash  TEXT NOT NULL DEFAULT '',
	shipped_at TIMESTAMPTZ
);

CREATE TABLE records (
	host        TEXT NOT NULL REFERENCES hosts (host),
	seq         BIGINT NOT NULL,
	time_ns     BIGINT NOT NULL,
	session_id  TEXT NOT NULL,
	caller_uid  BIGINT NOT NULL,
	caller_user TEXT NOT NULL,
	caller_exe  TEXT NOT NULL,
	model       TEXT NOT NULL,
	decision    TEXT NOT NULL,
	body        BYTEA NOT NULL,
	prev_hash   TEXT NOT NULL,
	hash        TEXT NOT NULL,
	recording   BYTEA,
	PRIMARY KEY (host, seq)
);

-- The queries of `airlock audit list --central` and the console's search.
CREATE INDEX records_time ON records (time_ns);
CREATE INDEX records_host_time ON records (host, time_ns);
CREATE INDEX records_session ON records (session_id, seq);
CREATE INDEX records_decision_time ON records (decision, time_ns);
CREATE INDEX records_model_time ON records (model, time_ns);

-- Where each host's chain resumes after central retention removed its oldest records.
CREATE TABLE checkpoints (
	host      TEXT PRIMARY KEY REFERENCES hosts (host),
	first_seq BIGINT NOT NULL,
	prev_hash TEXT NOT NULL,
	pruned    BIGINT NOT NULL
);

---- create above / drop below ----
DROP TABLE checkpoints;
DROP TABLE records;
DROP TABLE hosts;
