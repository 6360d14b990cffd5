"""Settings → E-mail: the resident types an address, gets a code there, types it back."""
