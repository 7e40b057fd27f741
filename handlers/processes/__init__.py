"""Several bot processes on one database: each update handled once and a chat's in order,
one Matrix syncing process."""
