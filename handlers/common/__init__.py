"""What several features share: filters, texts, keyboards, callback data, states, the
registration gate, the main-menu exit and the account picker. Nothing here imports a
feature package."""
