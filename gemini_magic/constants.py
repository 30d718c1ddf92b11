"""Constants shared by the client and the emulator: endpoints, limits and the model catalogue.

This is the only module the emulator (gemini_emulator) may import from the package (see DESIGN.md): plain values,
no wire code, so a mistake in the client's HTTP handling can never be mirrored by the emulator.
"""

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
DEFAULT_API_VERSION = "v1beta"
DEFAULT_MODEL = "gemini-2.5-flash"

# Environment variables, in the order they are consulted (the official SDK's order).
API_KEY_ENV_VARS = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
BASE_URL_ENV_VAR = "GOOGLE_GEMINI_BASE_URL"
API_KEY_HEADER = "x-goog-api-key"

# Request size limit for inline data (the seeds say 20 MB for the whole request).
INLINE_REQUEST_LIMIT = 20 * 1000 * 1000
# The Files API: 2 GB a file, uploads in multiples of the granularity the server announces.
MAX_FILE_SIZE = 2 * 1000 * 1000 * 1000
DEFAULT_UPLOAD_GRANULARITY = 8 * 1024 * 1024
FILE_TTL_SECONDS = 48 * 3600

# Every answer of the local emulator carries these, so nobody mistakes it for a real model.
EMULATOR_MODEL_VERSION_SUFFIX = "-emulator"
EMULATOR_MARKER = "[gemini_magic emulator]"

_GENERATE = ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]
_LIVE = ["bidiGenerateContent", "countTokens"]

# name, display name, input token limit, output token limit, supported methods, thinking
MODEL_CATALOGUE = (
    ("gemini-2.5-flash", "Gemini 2.5 Flash", 1048576, 65536, _GENERATE, True),
    ("gemini-2.5-pro", "Gemini 2.5 Pro", 1048576, 65536, _GENERATE, True),
    ("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", 1048576, 65536, _GENERATE, True),
    ("gemini-2.0-flash", "Gemini 2.0 Flash", 1048576, 8192, _GENERATE, False),
    ("gemini-2.5-flash-image", "Nano Banana", 32768, 32768, _GENERATE, False),
    ("gemini-3-pro-image-preview", "Nano Banana Pro", 65536, 32768, _GENERATE, True),
    ("gemini-2.5-flash-preview-tts", "Gemini 2.5 Flash Preview TTS", 8192, 16384, ["countTokens", "generateContent"], False),
    ("gemini-2.5-pro-preview-tts", "Gemini 2.5 Pro Preview TTS", 8192, 16384, ["countTokens", "generateContent"], False),
    ("gemini-3-flash-preview", "Gemini 3 Flash Preview", 1048576, 65536, _GENERATE, True),
    ("gemini-3-pro-preview", "Gemini 3 Pro Preview", 1048576, 65536, _GENERATE, True),
    ("gemini-flash-latest", "Gemini Flash Latest", 1048576, 65536, _GENERATE, True),
    ("gemini-embedding-001", "Gemini Embedding 001", 2048, 1, ["embedContent", "countTextTokens", "countTokens"], False),
    # Live models (BidiGenerateContent over a WebSocket): a native-audio one answers only in speech.
    ("gemini-2.5-flash-native-audio-preview-12-2025", "Gemini 2.5 Flash Native Audio", 131072, 8192, _LIVE, True),
    ("gemini-live-2.5-flash-preview", "Gemini Live 2.5 Flash Preview", 1048576, 8192, _LIVE, False),
    ("veo-3.1-generate-preview", "Veo 3.1", 1024, 1, ["predictLongRunning"], False),
    ("veo-3.1-fast-generate-preview", "Veo 3.1 Fast", 1024, 1, ["predictLongRunning"], False),
    ("gemini-omni-1.1-flash", "Gemini Omni 1.1 Flash", 32768, 1, ["createInteraction"], False),
)

#: Video models (api/videos.py): Veo speaks :predictLongRunning, Omni the Interactions API.
DEFAULT_VIDEO_MODEL = "veo-3.1-generate-preview"
DEFAULT_IMAGE_MODEL = "gemini-2.5-flash-image"

#: How an answer can be shown (`--format`, GeminiMagics.output_format); render/final.py draws each.
OUTPUT_FORMATS = ("markdown", "text", "code", "json")

# --- Live API (BidiGenerateContent over one WebSocket; shared/API_NOTES.md "Live API") -------------------
#: The WebSocket path on the base URL's host ({version}: the API version, "v1beta").
LIVE_PATH = "/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent"
LIVE_METHOD = "bidiGenerateContent"
#: The Live model used when none is named and the models list names none (a native-audio one).
DEFAULT_LIVE_MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
#: Words in the names of Live models that answer only in AUDIO (text comes as their transcription).
AUDIO_ONLY_LIVE_MARKERS = ("native-audio", "gemini-3.8-live", "flash-live-preview")
#: Realtime input audio: 16-bit little-endian mono PCM at 16 kHz; answers: the same at 24 kHz.
LIVE_INPUT_RATE = 16000
LIVE_OUTPUT_RATE = 24000
#: The largest message a client sends on a Live session (bytes of JSON).
LIVE_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
#: The prebuilt voices of speech output (speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName).
PREBUILT_VOICES = ("Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe",
                   "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi",
                   "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird",
                   "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat")
