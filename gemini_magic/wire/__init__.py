"""The wire: one HTTP session with auth, timeouts and retries (transport), stream decoding (sse), and the
resumable upload protocol (upload). Imports nothing above it but errors, constants and sniff."""
