"""Package data: the built-in offence map and weight tables (see PROVENANCE.md)."""
