//! Fault injection against the real binary: kills, SMTP and database outages, shutdown,
//! hostile load, several instances on one database.
