"""CoAP for the core (RFC 7252, RFC 7959, RFC 7641): message codec, then messaging."""
