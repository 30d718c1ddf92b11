"""A result evaluated in a real kernel (nbclient) arrives as Markdown, the mimetype JupyterLab renders.

JupyterLab ranks text/html (50) above text/markdown (60): a bundle holding both shows the HTML, which
showed the answer as raw text. The result's execute_result must therefore hold Markdown and no HTML,
begin with the same Markdown as the final view above it, and show its plain repr once the extension
is unloaded.
"""

from __future__ import annotations

import pytest

from gemini_magic.constants import EMULATOR_MARKER

pytestmark = pytest.mark.notebook


def test_a_result_in_a_kernel_is_markdown_like_the_final_view(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from pathlib import Path

    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    cells = ["%load_ext gemini_magic\n%gemini backend",
             "%%gemini --no-stream -o haiku\nWrite a haiku about rivers.",
             "haiku",
             "%%gemini --json --no-stream -o facts\nGive me facts.",
             "facts",
             "%unload_ext gemini_magic\nhaiku"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()

    def result(index):
        found = [o for o in notebook.cells[index].outputs if o.output_type == "execute_result"]
        assert len(found) == 1, notebook.cells[index].outputs
        return found[0].data

    final = next(o.data for o in notebook.cells[1].outputs if "text/markdown" in o.get("data", {}))
    haiku = result(2)
    assert set(haiku) == {"text/plain", "text/markdown"}
    answer = final["text/markdown"]
    assert answer.startswith(EMULATOR_MARKER) and haiku["text/markdown"].startswith(answer.split("\n\n---\n\n")[0])
    assert "<details><summary>Parts (1)</summary>" in haiku["text/markdown"]
    assert result(4)["text/markdown"].startswith('```json\n{\n  "emulator": ')
    unloaded = result(5)
    assert set(unloaded) == {"text/plain"} and unloaded["text/plain"].startswith("<Response ")
