"""The plain-Python face: `Client` and its helpers. Runs the turn pipeline; knows nothing of views."""
