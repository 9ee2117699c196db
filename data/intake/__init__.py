"""Data intake: fact-family specs, upload reading, validation, templates and exports."""
