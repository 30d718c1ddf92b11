// The voice widget of a Live session (gemini_magic/voice/widget.py): microphone, camera, speaker.
//
// Microphone: getUserMedia audio -> an AudioWorklet that resamples to 16 kHz mono 16-bit PCM and cuts
// frames of `frame_ms` -> `frames_per_message` frames joined in one binary buffer of one comm message
// ({type: "audio", t: the first frame's time in ms since the epoch, d: each frame's ms after it},
// [ArrayBuffer]); the kernel cuts it back into frames. Why several: each comm message costs the kernel
// about 3.5 ms of CPU and 400 B of Jupyter envelope; the price is the wait of a frame for the rest of its
// message (widget.py says how much), except at speech onset, which sends at once. One buffer, not one
// per frame: each buffer adds its own offsets to the message.
// Direct channel (voice/direct.py): when the kernel answers hello with {type: "direct", port, token},
// the microphone, once on, opens ws://127.0.0.1:PORT/, sends the token, and after "ok" (within
// DIRECT_WAIT_MS) sends each frame at once as one binary message (8 bytes of little-endian float64, the
// frame's time in ms since the epoch, then its PCM), telling the kernel {type: "channel", channel}. No
// socket, no "ok" in time, or a close later: the frames go by the comm as above, silently. Frames made
// while the socket is tried wait for the outcome, and the control words (activity_start, activity_end,
// audio_end) go as text on the open socket, so the session gets everything in the page's order.
// Camera: a frame every 1/video_fps seconds, drawn at <= max_video_side px on its long side, JPEG ->
// {type: "video"} with the bytes as a buffer.
// Speaker: {type: "audio"} messages from the kernel carry 24 kHz PCM; each chunk is scheduled right
// after the previous one (gapless); {type: "interrupted"} stops everything queued at once.
// Every string from the kernel is set as textContent (never HTML). Counters for tests and the level
// meter live on the element's `geminiVoice` property and on window.geminiVoice.

const WORKLET = `
class GeminiMic extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.ratio = sampleRate / o.rate;
    this.size = Math.round(o.rate * o.frameMs / 1000);
    this.out = new Int16Array(this.size);
    this.n = 0; this.acc = 0; this.count = 0; this.phase = 0; this.energy = 0;
  }
  process(inputs) {
    const channels = inputs[0];
    if (!channels || !channels.length) return true;
    const input = channels[0];
    for (let i = 0; i < input.length; i++) {
      let x = 0;
      for (let c = 0; c < channels.length; c++) x += channels[c][i];
      x /= channels.length;
      this.acc += x; this.count += 1; this.phase += 1;
      if (this.phase >= this.ratio) {          // box filter: the mean of the input samples it covers
        this.phase -= this.ratio;
        const y = Math.max(-1, Math.min(1, this.acc / this.count));
        this.acc = 0; this.count = 0;
        this.out[this.n++] = y < 0 ? y * 0x8000 : y * 0x7fff;
        this.energy += y * y;
        if (this.n === this.size) {
          const frame = this.out.buffer;
          this.port.postMessage({frame, level: Math.sqrt(this.energy / this.size), at: currentTime}, [frame]);
          this.out = new Int16Array(this.size); this.n = 0; this.energy = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor("gemini-mic", GeminiMic);
`;

const ONSET_LEVEL = 0.02;     // RMS of a frame (full scale 1), about -34 dBFS: speech, not a quiet room
const ONSET_QUIET_MS = 200;   // below it this long before: a new utterance, not a gap between words
const DIRECT_WAIT_MS = 1500;  // for the direct channel's "ok", else the comm

function button(label, title) {
  const b = document.createElement("button");
  b.textContent = label;
  b.title = title;
  b.className = "gemini-voice-button";
  return b;
}

function render({ model, el }) {
  const stats = { sent_frames: 0, sent_bytes: 0, sent_messages: 0, batch_waits: [], port_waits: [], send_times: [], onsets: [], video_frames: 0, video_bytes: 0, video_sizes: [], video_times: [],
                  received_samples: 0, played_samples: 0, interrupted: 0, stopped_samples: 0,
                  level: 0, mic: false, camera: false, muted: false, errors: [],
                  channel: "comm", direct_frames: 0, direct_events: [] };
  el.geminiVoice = stats;
  window.geminiVoice = stats;
  el.classList.add("gemini-voice");

  const bar = document.createElement("div");
  bar.className = "gemini-voice-bar";
  const mic = button("🎤 Start microphone", "Start or stop sending your voice");
  const talk = button("Hold to talk", "Push to talk: hold while you speak");
  const camera = button("📷 Camera on", "Turn the camera on or off (one frame a second)");
  const mute = button("🔈 Mute", "Mute or unmute the speaker");
  const end = button("⏹ End session", "End the Live session (the conversation stays in the notebook)");
  const meter = document.createElement("meter");
  meter.min = 0; meter.max = 1; meter.value = 0; meter.className = "gemini-voice-level";
  meter.title = "Microphone level";
  const status = document.createElement("div");
  status.className = "gemini-voice-status";
  const log = document.createElement("div");
  log.className = "gemini-voice-transcript";
  log.style.cssText = "max-height: 18em; overflow-y: auto; margin-top: 0.4em; font-family: var(--jp-content-font-family, sans-serif);";
  const video = document.createElement("video");
  video.muted = true; video.playsInline = true;
  video.style.cssText = "display: none; max-width: 240px; margin-top: 0.4em;";
  bar.append(mic, model.get("push_to_talk") ? talk : "", camera, mute, end, meter);
  el.append(bar, status, video, log);

  const say = (line) => { status.textContent = line; };
  say(model.get("status"));
  model.on("change:status", () => say(model.get("status")));

  // -- the transcript -------------------------------------------------------------------------------
  let current = null;  // {role, turn, node}
  function addText(role, turn, text) {
    if (!current || current.role !== role || current.turn !== turn) {
      const line = document.createElement("div");
      line.className = `gemini-voice-${role}`;
      const who = document.createElement("b");
      who.textContent = role === "user" ? "You: " : "Model: ";
      const body = document.createElement("span");
      line.append(who, body);
      log.append(line);
      current = { role, turn, node: body };
    }
    current.node.textContent += text;
    log.scrollTop = log.scrollHeight;
  }
  function addNote(text, kind) {
    const line = document.createElement("div");
    line.className = `gemini-voice-${kind}`;
    line.style.opacity = "0.75";
    line.textContent = text;
    log.append(line);
    current = null;
    log.scrollTop = log.scrollHeight;
  }

  // -- the speaker ------------------------------------------------------------------------------------
  const outRate = model.get("output_rate");
  let speaker = null, nextTime = 0, queued = [];
  function speakerContext() {
    if (!speaker) {
      speaker = new AudioContext();
    }
    if (speaker.state === "suspended") speaker.resume();
    return speaker;
  }
  function play(buffer) {
    const pcm = new Int16Array(buffer.buffer ? buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) : buffer);
    stats.received_samples += pcm.length;
    if (stats.muted) return;
    const ctx = speakerContext();
    const audio = ctx.createBuffer(1, pcm.length, outRate);
    const data = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) data[i] = pcm[i] / 0x8000;
    const source = ctx.createBufferSource();
    source.buffer = audio;
    source.connect(ctx.destination);
    const start = Math.max(nextTime, ctx.currentTime + 0.02);
    source.start(start);
    nextTime = start + audio.duration;
    const item = { source, start, samples: pcm.length, stopped: false };
    queued.push(item);
    source.onended = () => {
      if (!item.stopped) stats.played_samples += item.samples;
      queued = queued.filter((q) => q !== item);
    };
  }
  function stopPlayback() {
    const now = speaker ? speaker.currentTime : 0;
    for (const item of queued) {
      item.stopped = true;
      const heard = Math.max(0, Math.min(item.samples, Math.round((now - item.start) * outRate)));
      stats.played_samples += heard;
      stats.stopped_samples += item.samples - heard;
      try { item.source.stop(); } catch (e) { /* not started */ }
    }
    queued = [];
    nextTime = 0;
  }

  // -- the microphone -------------------------------------------------------------------------------
  let micStream = null, micContext = null, micNode = null, talking = !model.get("push_to_talk");
  const perMessage = Math.max(1, model.get("frames_per_message"));
  // Speech onset (a frame at ONSET_LEVEL or louder after ONSET_QUIET_MS below it) sends the frames
  // waiting at once, so a user who starts talking, or talks over the model, is heard without the batch
  // wait: one message more per utterance (widget.py says why frames are batched at all).
  const onsetQuiet = Math.ceil(ONSET_QUIET_MS / model.get("frame_ms"));
  let pending = [], stamps = [], lastSent = -Infinity, quietFrames = onsetQuiet;
  function flushMic() {   // the frames waiting, in one comm message; their times for the latency figures
    if (!pending.length) return;
    const t = stamps[0], now = performance.timeOrigin + performance.now();
    for (const stamp of stamps) { if (stats.batch_waits.length < 20000) stats.batch_waits.push(now - stamp); }
    let size = 0;
    for (const frame of pending) size += frame.byteLength;
    const joined = new Uint8Array(size);
    let at = 0;
    for (const frame of pending) { joined.set(new Uint8Array(frame), at); at += frame.byteLength; }
    stats.sent_messages += 1;
    stats.sent_frames += pending.length;
    stats.sent_bytes += size;
    lastSent = performance.now();
    const first = Math.round(t * 10) / 10;
    model.send({ type: "audio", t: first, d: stamps.map((s) => Math.round(s - t)) }, undefined, [joined.buffer]);
    if (stats.send_times.length < 20000) stats.send_times.push([first, performance.timeOrigin + performance.now()]);
    pending = []; stamps = [];
  }
  async function startMic() {
    try {
      micStream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true,
                                                                        noiseSuppression: true } });
    } catch (error) {
      stats.errors.push(String(error && error.name));
      say(`No microphone (${error && error.name === "NotAllowedError" ? "permission refused" : (error && error.message) || error}): allow it in the browser and press Start again; typed turns still work.`);
      model.send({ type: "device", device: "microphone", error: String(error && error.name) });
      return;
    }
    micContext = new AudioContext();
    const url = URL.createObjectURL(new Blob([WORKLET], { type: "application/javascript" }));
    await micContext.audioWorklet.addModule(url);
    URL.revokeObjectURL(url);
    const sourceNode = micContext.createMediaStreamSource(micStream);
    micNode = new AudioWorkletNode(micContext, "gemini-mic", {
      processorOptions: { rate: model.get("input_rate"), frameMs: model.get("frame_ms") } });
    micNode.port.onmessage = ({ data }) => {
      // the frame's age in the audio clock: the worklet's thread -> this one (the benchmark's figure)
      if (stats.port_waits.length < 20000) stats.port_waits.push((micContext.currentTime - data.at) * 1000);
      stats.level = data.level;
      meter.value = Math.min(1, data.level * 4);
      if (!talking) return;
      const stamp = performance.timeOrigin + performance.now();
      const loud = data.level >= ONSET_LEVEL, onset = loud && quietFrames >= onsetQuiet;
      quietFrames = loud ? 0 : quietFrames + 1;
      if (onset && stats.onsets.length < 20000) stats.onsets.push(stamp);
      if (direct && direct.readyState === WebSocket.OPEN) { sendDirect(data.frame, stamp); return; }
      pending.push(data.frame);
      stamps.push(stamp);
      // While the direct socket is tried (a few ms on loopback, DIRECT_WAIT_MS at most) the frames wait,
      // so none goes by the slower comm ahead of the first direct ones: the session gets them in order.
      if (!trying && (onset || pending.length >= perMessage)) flushMic();
    };
    sourceNode.connect(micNode);
    stats.mic = true;
    openDirect();
    mic.textContent = "⏸ Stop microphone";
    speakerContext();  // the click is the user gesture that lets the page play the answer
    say(model.get("push_to_talk") ? "Listening while you hold the button." : "Listening: speak, pause, and the model answers.");
  }
  function stopMic(tell = true) {
    if (tell) { flushMic(); control("audio_end"); } else { pending = []; stamps = []; }  // audio_end after the last frame
    closeDirect();
    if (tell) tellChannel("comm");
    if (micStream) micStream.getTracks().forEach((track) => track.stop());
    if (micContext) micContext.close();
    micStream = micContext = micNode = null;
    stats.mic = false;
    meter.value = 0;
    mic.textContent = "🎤 Start microphone";
  }
  mic.addEventListener("click", () => (stats.mic ? stopMic() : startMic()));
  // Control words go the frames' way (the direct socket when it is open), so they keep their place among them.
  function control(word) {
    if (direct && direct.readyState === WebSocket.OPEN) direct.send(word);
    else model.send({ type: word });
  }
  talk.addEventListener("pointerdown", () => { talking = true; control("activity_start"); });
  const release = () => { if (talking) { flushMic(); talking = false; control("activity_end"); } };
  talk.addEventListener("pointerup", release);
  talk.addEventListener("pointerleave", release);

  // -- the direct channel ---------------------------------------------------------------------------
  let offer = null, direct = null, trying = null;   // the kernel's {port, token}; the open socket; the one trying
  function tellChannel(name) {
    if (ended || stats.channel === name) return;
    stats.channel = name;
    model.send({ type: "channel", channel: name });
  }
  function openDirect() {
    if (!offer || direct || trying || ended || !stats.mic) return;
    let socket;
    try {
      socket = new WebSocket(`ws://127.0.0.1:${offer.port}/`);
    } catch (error) {     // refused before trying (a Content-Security-Policy, a blocked port): the comm stays
      stats.direct_events.push(`refused: ${error && error.name}`);
      return;
    }
    socket.binaryType = "arraybuffer";
    trying = socket;
    const timer = setTimeout(() => {
      if (trying !== socket) return;
      stats.direct_events.push("no answer in time");
      trying = null;
      socket.close();
      flushMic();          // the frames held while trying go by the comm
    }, DIRECT_WAIT_MS);
    const token = offer.token;
    socket.onopen = () => socket.send(token);
    socket.onmessage = ({ data }) => {
      if (data !== "ok" || trying !== socket) return;
      clearTimeout(timer);
      trying = null;
      direct = socket;
      stats.direct_events.push("open");
      const waiting = pending, times = stamps;   // held while trying: now first on the socket, in order
      pending = []; stamps = [];
      waiting.forEach((frame, index) => sendDirect(frame, times[index]));
      tellChannel("direct");
    };
    socket.onclose = (event) => {
      clearTimeout(timer);
      stats.direct_events.push(`closed ${event.code}`);
      if (trying === socket) { trying = null; flushMic(); }
      if (direct === socket) { direct = null; tellChannel("comm"); }
    };
  }
  function closeDirect() {
    const socket = direct || trying;
    direct = trying = null;
    if (socket) socket.close();
  }
  function sendDirect(frame, stamp) {  // one frame, at once: its time (float64, little-endian) and its PCM
    const t = Math.round(stamp * 10) / 10;
    const message = new Uint8Array(8 + frame.byteLength);
    new DataView(message.buffer).setFloat64(0, t, true);
    message.set(new Uint8Array(frame), 8);
    direct.send(message.buffer);
    stats.sent_frames += 1;
    stats.sent_bytes += frame.byteLength;
    stats.direct_frames += 1;
    lastSent = performance.now();
    const now = performance.timeOrigin + lastSent;
    if (stats.batch_waits.length < 20000) stats.batch_waits.push(now - stamp);
    if (stats.send_times.length < 20000) stats.send_times.push([t, now]);
  }

  // -- the camera -----------------------------------------------------------------------------------
  let camStream = null, camTimer = null;
  const canvas = document.createElement("canvas");
  async function startCamera() {
    try {
      camStream = await navigator.mediaDevices.getUserMedia({ video: true });
    } catch (error) {
      stats.errors.push(String(error && error.name));
      say(`No camera (${error && error.name === "NotAllowedError" ? "permission refused" : (error && error.message) || error}); the session goes on without video.`);
      model.send({ type: "device", device: "camera", error: String(error && error.name) });
      return;
    }
    video.srcObject = camStream;
    video.style.display = "block";
    await video.play().catch(() => {});
    stats.camera = true;
    camera.textContent = "📷 Camera off";
    const side = model.get("max_video_side");
    const every = 1000 / Math.min(1, model.get("video_fps"));
    let last = -Infinity;
    const grab = () => {
      if (!camStream || !video.videoWidth) return;
      const now = performance.now();
      if (now - last < every - 50) return;   // timers that catch up after a busy spell: never over 1 fps
      last = now;
      stats.video_times.push(now / 1000);
      const scale = Math.min(1, side / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(async (blob) => {
        if (!blob || !camStream) return;
        const bytes = await blob.arrayBuffer();
        stats.video_frames += 1;
        stats.video_bytes += bytes.byteLength;
        stats.video_sizes.push([canvas.width, canvas.height]);
        model.send({ type: "video" }, undefined, [bytes]);
      }, "image/jpeg", 0.8);
    };
    camTimer = setInterval(grab, 250);
  }
  function stopCamera() {
    if (camTimer) clearInterval(camTimer);
    if (camStream) camStream.getTracks().forEach((track) => track.stop());
    camStream = camTimer = null;
    video.srcObject = null;
    video.style.display = "none";
    stats.camera = false;
    camera.textContent = "📷 Camera on";
  }
  camera.addEventListener("click", () => (stats.camera ? stopCamera() : startCamera()));
  mute.addEventListener("click", () => {
    stats.muted = !stats.muted;
    mute.textContent = stats.muted ? "🔊 Unmute" : "🔈 Mute";
    if (stats.muted) stopPlayback();
  });

  // -- ending ----------------------------------------------------------------------------------------
  let ended = false;
  function release_all() {
    stopMic(false);   // the direct socket too
    stopCamera();
    stopPlayback();
    clearInterval(heartbeat);
  }
  function finish(line) {
    if (ended) return;
    ended = true;
    release_all();
    for (const b of [mic, talk, camera, mute, end]) b.disabled = true;
    say(line);
  }
  end.addEventListener("click", () => { model.send({ type: "end" }); finish("Ending the session..."); });

  model.on("msg:custom", (message, buffers) => {
    const kind = message.type;
    if (kind === "audio") { for (const b of buffers) play(b); }
    else if (kind === "interrupted") { stats.interrupted += 1; stopPlayback(); addNote("(interrupted)", "note"); }
    else if (kind === "text") addText(message.role, message.turn, message.text);
    else if (kind === "tool") addNote(message.text, "tool");
    else if (kind === "note") addNote(message.text, "note");
    else if (kind === "turn_complete") current = null;
    else if (kind === "closed") finish(message.text);
    else if (kind === "direct") { offer = { port: message.port, token: message.token }; openDirect(); }
  });

  // The kernel ends the session when the page stops answering (a tab closed): a ping every second,
  // unless microphone frames went in the last second (they say the page is alive as well).
  const heartbeat = setInterval(() => {
    if (!ended && performance.now() - lastSent > 900) model.send({ type: "ping" });
  }, 1000);
  model.send({ type: "hello" });
  return () => release_all();
}

export default { render };
