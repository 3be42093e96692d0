"""Internal symbol ops (names starting with _), generated at import."""
