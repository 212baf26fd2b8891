DROP TABLE billing_source_positions;
