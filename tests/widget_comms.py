"""What widgets would send to the frontend, recorded at the comm level, without a kernel.

ipywidgets opens each widget's comm with `comm.create_comm`, the hook the `comm` package documents as
"intended to be replaced, so that it returns your Comm instance" (ipykernel replaces it with a comm
that publishes on IOPub). `CommRecorder` replaces it with a comm that keeps every message instead:
`comm_open` with a widget's whole state, `comm_msg` with each state update, `comm_close`. Sizes are
those of the JSON the kernel would send (data and metadata, plus binary buffers).

    from widget_comms import comms   # the fixture: a CommRecorder active for the test
    def test_x(comms):
        ...
        comms.bytes_since(mark)          # what was sent since `mark = comms.mark()`
"""

from __future__ import annotations

import json

import comm
import pytest
from comm.base_comm import BaseComm


class RecordingComm(BaseComm):
    def __init__(self, recorder: "CommRecorder", *args, **kwargs) -> None:
        self._recorder = recorder
        super().__init__(*args, **kwargs)

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys) -> None:
        # As jupyter_client's session packs it: UTF-8 JSON, non-ASCII kept as is.
        size = len(json.dumps({"data": data or {}, "metadata": metadata or {}}, ensure_ascii=False,
                              default=str).encode())
        size += sum(len(memoryview(b).cast("B")) for b in buffers or ())
        self._recorder.messages.append(Message(msg_type, self.comm_id, data or {}, size))


class Message:
    def __init__(self, msg_type: str, comm_id: str, data: dict, size: int) -> None:
        self.msg_type, self.comm_id, self.data, self.size = msg_type, comm_id, data, size

    @property
    def state(self) -> dict:
        return self.data.get("state") or {}

    def __repr__(self) -> str:
        return f"<{self.msg_type} {self.comm_id[:6]} {sorted(self.state)} {self.size:,} B>"


class CommRecorder:
    """Replaces `comm.create_comm` while active (a context manager); `messages` in the order sent."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._saved = None

    def __enter__(self) -> "CommRecorder":
        self._saved = comm.create_comm
        comm.create_comm = lambda *args, **kwargs: RecordingComm(self, *args, **kwargs)
        return self

    def __exit__(self, *exc) -> None:
        comm.create_comm = self._saved

    def mark(self) -> int:
        return len(self.messages)

    def bytes_since(self, mark: int = 0) -> int:
        return sum(m.size for m in self.messages[mark:])

    def output_models(self) -> set[str]:
        """The comm ids of the Output widgets opened so far."""
        return {m.comm_id for m in self.messages
                if m.msg_type == "comm_open" and m.state.get("_model_name") == "OutputModel"}

    def outputs_sent(self, since: int = 0) -> list[tuple]:
        """Each non-empty `outputs` an Output widget was opened with or updated to, in order."""
        outputs = self.output_models()
        return [tuple(m.state["outputs"]) for m in self.messages[since:]
                if m.comm_id in outputs and m.state.get("outputs")]

    def count(self, text: str, since: int = 0) -> int:
        """In how many messages `text` is sent (e.g. an image's base64)."""
        return sum(text in json.dumps(m.data) for m in self.messages[since:])


@pytest.fixture
def comms():
    with CommRecorder() as recorder:
        yield recorder
