"""Date polls (Terminabfrage) and surveys: create, answer, tally, deadlines."""
