"""Internal operators (names starting with '_'), generated at import from the registry."""
