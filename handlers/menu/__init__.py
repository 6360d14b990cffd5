"""The main menu items whose features come in later issues."""
