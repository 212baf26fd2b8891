DROP INDEX resources_type_rid;
