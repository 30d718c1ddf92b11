"""Browser tests: JupyterLab and Notebook 7 in headless Chromium against the local emulator."""
