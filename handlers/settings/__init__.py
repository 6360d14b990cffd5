"""Settings: language, e-mail (handlers/email/), deleting the resident's data."""
