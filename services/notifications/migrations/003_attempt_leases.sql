-- A claimed delivery is leased for one attempt on the database's own clock, apart from
-- `next_attempt_at` (the platform's clock, which a demo compresses): a lease counted on
-- a compressed clock ran out while the attempt was still under way, and the delivery was
-- claimed and sent again. A claim still moves `next_attempt_at` past the lease as well,
-- so rows in flight leave the range of the due index that every claim scans.
ALTER TABLE deliveries ADD COLUMN leased_until timestamptz;
