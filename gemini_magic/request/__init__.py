"""Turning what a user asks into a request body: generation settings (validated once), request bodies,
and the turn pipeline. Pure, apart from uploads of parts too big to send inline."""
