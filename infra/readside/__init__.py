"""The read side: read models kept in SQL tables from the log (exactly once), rebuilt on demand, and the queries over them."""
