-- Unsorted searches and exports page through one type in row key order
-- (res_type = ? AND rid > ? ORDER BY rid). Without this index SQLite
-- reads every resource of the type through resources_updated and sorts
-- them for each page, so an export of 1,000,000 resources takes time
-- quadratic in their number.
CREATE INDEX resources_type_rid ON resources (res_type, rid);
