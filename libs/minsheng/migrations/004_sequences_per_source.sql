-- Two outside systems may both call an aggregate "1001": the highest applied sequence is
-- kept per (consumer, source, aggregate), so one sender's events never hide another's.
ALTER TABLE applied_sequences ADD COLUMN source text NOT NULL DEFAULT '';
ALTER TABLE applied_sequences DROP CONSTRAINT applied_sequences_pkey;
ALTER TABLE applied_sequences ADD PRIMARY KEY (consumer, source, aggregate_id);
