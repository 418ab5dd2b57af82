DROP TABLE follow_up_dues;
