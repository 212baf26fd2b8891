DROP TABLE version_patients;
