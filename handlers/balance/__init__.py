"""Balance: what is owed per service and month, receipts with a payment QR code, the
history chart, payment in Telegram."""
