DROP TABLE scheduling_responses;
