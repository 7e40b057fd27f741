"""The agenda (Tagesordnung) and the running meeting: TOPs, current TOP, notes, attendance."""
