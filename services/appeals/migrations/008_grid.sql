-- The grid (网格) an appeal is in, below its community; optional, as the place's others.
ALTER TABLE appeals ADD COLUMN grid text;
