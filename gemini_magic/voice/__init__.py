"""Voice and camera in the browser for Live sessions: the widget (widget.py, widget.js) and what the
conversation leaves in the saved notebook (record.py). anywidget is imported only when a widget is made."""
