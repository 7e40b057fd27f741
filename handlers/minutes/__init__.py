"""Minutes (Protokoll): parse what minute-takers type, render, publish, approve."""
