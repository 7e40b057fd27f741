"""Action items (Aufgaben): record with assignees and due date, change status, list."""
