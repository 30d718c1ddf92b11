"""The live view's answer area: one `Output` widget per piece of the answer, each sent only when it changes.

An answer streams as an ordered list of pieces (`render/answer.py`): text, an image, more text, an
audio player. Each piece gets its own `ipywidgets.Output`, made once when the piece first shows; a
redraw assigns `Output.outputs` only for the pieces whose display data differ from what that widget
already shows — in practice the text piece being streamed and pieces that are new. An image (and any
piece that stopped changing) is sent to the frontend once, whatever the number of redraws after it;
the box's `children` (a list of model ids, a few bytes) changes only when a piece is added.

    area = PieceOutputs()
    sent = area.show([{"text/markdown": "A cat:", "text/plain": "A cat:"}, {"image/png": b64, ...}])
    sent = area.show([... same two ..., {"text/markdown": "and", ...}])   # only the third is sent
    area.shown()          # every output shown, in order (the tuple one Output widget used to hold)
    area.close()          # empties, then closes every widget made
"""

from __future__ import annotations

__all__ = ["PieceOutputs", "display_data", "data_size"]


def display_data(data: dict) -> dict:
    """One `Output.outputs` item holding the MIME bundle `data`."""
    return {"output_type": "display_data", "data": data, "metadata": {}}


def data_size(data: dict) -> int:
    """Characters of a bundle's values: what sending it costs, give or take the JSON around them."""
    return sum(len(value) for value in data.values() if isinstance(value, str))


def same_data(a: dict, b: dict) -> bool:
    """Whether two bundles show the same thing. Values are compared by identity first (an image's
    base64 is the very string of the part it came from, so an image already shown costs nothing to
    recognise), then by length, then by content."""
    if a is b:
        return True
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        other = b[key]
        if value is not other and (len(value) != len(other) or value != other):
            return False
    return True


class PieceOutputs:
    """A VBox of one Output widget per answer piece (see the module docstring). `box` goes in the view."""

    def __init__(self) -> None:
        import ipywidgets

        self._widgets = ipywidgets
        self.box = ipywidgets.VBox()
        self._layout = ipywidgets.Layout()  # one for every piece: a model less to open and close per piece
        self.outputs: list = []       # the Output widgets, one per piece, in order
        self._data: list[dict] = []   # what each of them shows

    def show(self, datas: list[dict]) -> int:
        """Make the area show one piece per bundle of `datas`, in order; returns the characters sent
        (the bundles that were new or changed). Pieces past the end of `datas` are emptied and removed
        (a tool loop's next turn starts its own answer)."""
        sent = 0
        added = False
        for index, data in enumerate(datas):
            if index < len(self.outputs):
                if same_data(self._data[index], data):
                    continue
                self.outputs[index].outputs = (display_data(data),)
                self._data[index] = data
            else:
                self.outputs.append(self._widgets.Output(outputs=(display_data(data),), layout=self._layout))
                self._data.append(data)
                added = True
            sent += data_size(data)
        removed = self.outputs[len(datas):]
        if removed:
            del self.outputs[len(datas):], self._data[len(datas):]
        if added or removed:
            self.box.children = tuple(self.outputs)
        for output in removed:
            output.close()
        return sent

    def shown(self) -> tuple:
        """Every output item the area shows, in order (the pieces' display data)."""
        return tuple(item for output in self.outputs for item in output.outputs)

    def clear(self) -> None:
        """Empty every piece's widget (so recorders that keep widget state store nothing twice)."""
        for output in self.outputs:
            if output.outputs:
                output.outputs = ()

    def close(self) -> None:
        """Empty, then close every widget made (layouts too), so none lingers in the kernel."""
        self.clear()
        for output in self.outputs:
            output.close()
        self._layout.close()
        _close(self.box)

    def widgets(self) -> list:
        """The widgets made so far: the box, one Output per piece and the layout they share."""
        return [self.box, *self.outputs, self._layout]


def _close(widget) -> None:
    for model in (getattr(widget, "layout", None), getattr(widget, "style", None), widget):
        if model is not None:
            model.close()
