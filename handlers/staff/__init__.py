"""The staff supergroup: cards of account-link requests, Approve / Reject with a reason."""
