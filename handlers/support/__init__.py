"""Contact support: a resident's conversation with operators (issue 11)."""
