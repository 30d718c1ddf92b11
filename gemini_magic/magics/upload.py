"""`%gemini_upload`: a resumable upload through `Client.upload_file`, with a progress bar, bound to a name."""

from __future__ import annotations

import os

from IPython.core.error import UsageError

from ..errors import GeminiError


class Uploads:
    """Unfinished upload sessions by source (path, size, mtime), so running the magic again continues."""

    def __init__(self) -> None:
        self._sessions: dict = {}

    def run(self, magics, args) -> None:
        from ..render.progress import UploadProgress
        from ..wire.upload import UploadSession, check_source, display_name_of

        source, label = upload_source(args.source, magics.shell.user_ns)
        label = display_name_of(label)  # a file name that is not UTF-8 is shown with U+FFFD, not a traceback
        name = args.as_name or identifier_for(label)
        if not args.as_name and args.source.strip().strip("{} ") == name:
            name += "_file"  # `{video_bytes}` keeps its bytes; the File goes to video_bytes_file
        if not name.isidentifier():
            raise UsageError(f"--as {name!r} is not a valid Python variable name.")
        if isinstance(source, (str, os.PathLike)):
            try:
                check_source(source)  # a missing file is refused before a client, a bar or a request
            except GeminiError as error:
                raise UsageError(_explain(error)) from None
        key = source_key(source)
        session = self._sessions.setdefault(key, UploadSession()) if key else UploadSession()
        client = magics.backend.client()
        progress = UploadProgress(label)
        try:
            file = client.upload_file(source, mime_type=args.mime, display_name=args.display_name,
                                      progress=progress, wait=not args.no_wait, session=session)
        except KeyboardInterrupt:
            how = ("Run the same %gemini_upload again to continue from byte "
                   f"{session.sent:,}." if key and session.url else "Run %gemini_upload again to start over.")
            progress.discard()  # the UsageError is the one message
            raise UsageError(f"Upload of {label} interrupted. {how}") from None
        except (GeminiError, OSError) as error:
            progress.discard()
            raise UsageError(_explain(error)) from None
        self._sessions.pop(key, None)
        magics.shell.user_ns[name] = file
        verb = "Reused" if file.reused else "Uploaded"
        note = " (the same content was already uploaded)" if file.reused else ""
        progress.finish(f"{verb} {label} as {file.name}{note}: {file.mime_type}, {file.size_bytes:,} bytes, "
                        f"{file.state}. Bound to `{name}`: use {{{name}}} in a prompt.")


def upload_source(text: str, namespace: dict):
    """The thing to upload and a label for it: a path, or a `{name}` variable's value."""
    from ..prompt import split_template

    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        expression = text[1:-1].strip()
        try:
            pieces = split_template(text, namespace)
        except GeminiError as error:
            raise UsageError(_explain(error)) from None
        if len(pieces) != 1 or isinstance(pieces[0], str) and pieces[0] == text:
            raise UsageError(f"{text} is not a variable reference.")
        value = pieces[0]
        if isinstance(value, (str, os.PathLike)):
            return value, os.path.basename(os.fspath(value))
        return value, getattr(value, "name", None) and os.path.basename(str(value.name)) or expression
    return os.path.expanduser(text), os.path.basename(text)


def identifier_for(label: str) -> str:
    """A valid variable name from a file name: `Lecture 01.mp4` → `lecture_01`."""
    import keyword
    import re

    stem = label.rsplit(".", 1)[0] if "." in label.strip(".") else label
    name = re.sub(r"\W+", "_", stem.strip().lower()).strip("_") or "uploaded_file"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"file_{name}"
    return name


def source_key(source) -> tuple | None:
    """Identifies a file on disk across runs (path, size, mtime), so an interrupted upload can continue."""
    if isinstance(source, (str, os.PathLike)):
        try:
            stat = os.stat(source)
        except OSError:
            return None
        return (os.path.abspath(source), stat.st_size, stat.st_mtime_ns)
    return None


def _explain(error: BaseException) -> str:
    """explain.message, imported on first use (not at %load_ext: it brings difflib and a dozen patterns)."""
    from . import explain

    return explain.message(error)
