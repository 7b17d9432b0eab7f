-- A batch of receipts claims its Idempotency-Keys before it inserts the appeals that
-- win them (losers are never written), so the reference is checked at commit.
ALTER TABLE idempotency_keys
    ALTER CONSTRAINT idempotency_keys_appeal_id_fkey DEFERRABLE INITIALLY DEFERRED;
