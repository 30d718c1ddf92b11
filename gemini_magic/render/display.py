"""The notebook display of a `Response`, registered with IPython when the extension loads.

`Response` is a pure answer model and imports no view: `register(ip)` tells IPython's
mimebundle formatter, by type name (so registering imports nothing), to show a Response with
`response_bundle` (render/explore.py): the answer rendered like the final view of `%%gemini`, then
collapsed sections to explore it. Without the extension, a Response shows its plain repr.

    from gemini_magic.render.display import register
    register(get_ipython())          # what `%load_ext gemini_magic` does
"""

from __future__ import annotations

RESPONSE_TYPE = ("gemini_magic.answer.response", "Response")
LIVE_TURN_TYPE = ("gemini_magic.answer.live_turn", "LiveTurn")
VIDEO_TYPE = ("gemini_magic.api.video", "Video")
IMAGES_TYPE = ("gemini_magic.api.images", "GeneratedImages")


def register(ip) -> None:
    """Show `Response` and `LiveTurn` objects with `response_bundle` in `ip` (an InteractiveShell), a
    generated `Video` as a player and `GeneratedImages` as images (render/video.py)."""
    formatter = ip.display_formatter.mimebundle_formatter
    formatter.for_type_by_name(*RESPONSE_TYPE, _response_bundle)
    formatter.for_type_by_name(*LIVE_TURN_TYPE, _live_turn_bundle)
    formatter.for_type_by_name(*VIDEO_TYPE, _video_bundle)
    formatter.for_type_by_name(*IMAGES_TYPE, _images_bundle)


def unregister(ip) -> None:
    """Undo `register` (for `%unload_ext`): these objects show their plain repr again."""
    for kind in (RESPONSE_TYPE, LIVE_TURN_TYPE, VIDEO_TYPE, IMAGES_TYPE):
        ip.display_formatter.mimebundle_formatter.pop(".".join(kind), None)


def _live_turn_bundle(turn) -> dict:
    """A Live turn shows as the Response it amounts to: its transcript, its speech as a player, its calls."""
    return _response_bundle(turn.to_response())


def _response_bundle(response) -> dict:
    # IPython applies display(include=..., exclude=...) to what this returns.
    from .explore import response_bundle  # the view is built on first display, not at %load_ext

    return response_bundle(response)


def _video_bundle(video) -> dict:
    from .video import video_bundle

    return video_bundle(video)


def _images_bundle(images) -> dict:
    from .video import images_bundle

    return images_bundle(images)
