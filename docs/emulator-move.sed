s/from gemini_magic\.emulator\./from gemini_emulator./g
s/from gemini_magic\.emulator import/from gemini_emulator import/g
s/import gemini_magic\.emulator/import gemini_emulator/g
s/-m gemini_magic\.emulator/-m gemini_emulator/g
s/"gemini_magic\.emulator"/"gemini_emulator"/g
s/gemini_magic\.emulator\.__main__/gemini_emulator.__main__/g
s/`gemini_magic\.emulator`/`gemini_emulator`/g
s/``gemini_magic\.emulator``/``gemini_emulator``/g
s/gemini_magic\/emulator\//gemini_emulator\//g
s/from \.\.emulator import/from gemini_emulator import/g
