"""Help for whoever sets the bot up: /chat_id in a group tells its id for STAFF_CHAT_ID."""
