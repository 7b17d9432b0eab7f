-- The grid an appeal was received in (district/street/community/grid), so that rules can
-- reach its chiefs on later events, which do not repeat the place.
ALTER TABLE subjects ADD COLUMN grid text;
