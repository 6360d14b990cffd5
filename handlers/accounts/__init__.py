"""My accounts and linking an account (rules: bot/services/linking.py; README "Linking")."""
