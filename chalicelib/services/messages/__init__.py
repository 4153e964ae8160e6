"""« Mes messages »: conversations between trainees and their training organisation."""
