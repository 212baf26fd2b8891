DROP TABLE billing_kept_elements;
