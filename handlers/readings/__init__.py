"""Meter readings: submission with checks, correction, history (rules:
bot/services/readings.py and readings_rules.py; reminders: readings_reminders.py)."""
