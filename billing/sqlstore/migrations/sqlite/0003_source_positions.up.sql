-- The position in each source's event stream that charge capture has
-- reached, moved in the transaction that captures the event there, so a
-- restart resumes after the last captured event. Positions only grow.
CREATE TABLE billing_source_positions (
	source TEXT PRIMARY KEY,
	position BIGINT NOT NULL CHECK (position > 0),
	updated_at BIGINT NOT NULL
);
