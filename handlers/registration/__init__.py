"""/start, consent to the processing of personal data (152-ФЗ), sharing the phone."""
