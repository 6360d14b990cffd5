"""The last line: an error is logged with its update, and the resident is told plainly."""
