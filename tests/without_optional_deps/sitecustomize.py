"""Makes numpy, pandas and matplotlib unimportable, as on a machine without them.

CI runs the suite a second time with this folder first on PYTHONPATH (see .ci/run): pandas, numpy
and matplotlib are optional, so everything but their own converters must work without them.
Subprocesses the tests start inherit PYTHONPATH, and so the block.
"""

import sys

BLOCKED = ("numpy", "pandas", "matplotlib")


class _BlockOptional:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            # ModuleNotFoundError, as for a module that is not installed (pytest.importorskip skips on it).
            raise ModuleNotFoundError(f"{name} is blocked: this run checks that gemini_magic works without it",
                                      name=name)
        return None


sys.meta_path.insert(0, _BlockOptional())
