"""Periodic sweeps: APScheduler only wakes them; the database says what is due."""
