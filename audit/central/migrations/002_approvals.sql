-- Held requests published by each host, decided by any operator who can
-- reach the database. A decision is announced on the airlock_approvals
-- channel (LISTEN/NOTIFY); hosts also poll, in case a notification is lost.
CREATE TABLE approvals (
	id          TEXT PRIMARY KEY,
	host        TEXT NOT NULL,
	caller      JSONB NOT NULL,
	rule        TEXT NOT NULL,
	reason      TEXT NOT NULL,
	method      TEXT NOT NULL,
	path        TEXT NOT NULL,
	model       TEXT NOT NULL,
	summary     TEXT NOT NULL,  -- the masked request excerpt
	digest      TEXT NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	expires_at  TIMESTAMPTZ NOT NULL,
	decision    TEXT CHECK (decision IN ('approve', 'deny', 'timeout')),
	decided_by  TEXT,
	decided_at  TIMESTAMPTZ,
	note        TEXT,
	window_ns   BIGINT NOT NULL DEFAULT 0,  -- a just-in-time window opened with the approval
	applied     BOOLEAN NOT NULL DEFAULT false  -- the holding daemon has acted on the decision
);
CREATE INDEX approvals_open ON approvals (host, expires_at) WHERE decision IS NULL;

---- create above / drop below ----
DROP TABLE approvals;
