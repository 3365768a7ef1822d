// The Live tab's script: run by gr.HTML's js_on_load with `element` (the component's root) and
// `server` (its Python functions). omni_demo/ui/live.py fills in __TEXTS__ and __SETUP__.
//
// Microphone -> AudioWorklet "omni-mic" (PCM16 at 24 kHz, one frame every 50 ms) -> WebSocket
// /v1/realtime as input_audio_buffer.append. The server detects the turns (server VAD) and answers;
// its response.output_audio.delta (PCM16 24 kHz) goes to AudioWorklet "omni-player", which starts
// after a short prebuffer and plays the chunks back to back. When the user speaks over an answer,
// the player is flushed at once and conversation.item.truncate tells the server how much of the
// answer was really heard, so the conversation keeps only that.
(() => {
  const TEXTS = __TEXTS__;
  const SETUP = __SETUP__;
  const RATE = 24000; // the endpoint's input and output rate
  const FRAME = 1200; // microphone samples per input_audio_buffer.append (50 ms)
  const PREBUFFER = 3600; // samples of an answer held before it starts to play (150 ms)
  const SETTLE_MS = 400; // typing in the system prompt: send session.update when it pauses
  const PICTURE_MS = 1000; // camera on: one picture a second goes to the server
  const PICTURE_SIDE = 640; // the longer side of a picture, in pixels (JPEG, quality 0.7)

  const WORKLETS = `
class OmniMic extends AudioWorkletProcessor {
  // Resamples the input (the context's rate) to 24 kHz by linear interpolation (a low-pass filter
  // sits in front of it) and posts PCM16 frames with their level.
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.step = sampleRate / o.rate;
    this.size = o.frame;
    this.frame = new Int16Array(o.frame);
    this.count = 0;
    this.peak = 0;
    this.at = 0;
    this.last = 0;
    this.on = true;
    this.port.onmessage = () => { this.on = false; };
  }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!this.on) return false;
    if (!input) return true;
    const n = input.length;
    let at = this.at;
    while (at <= n - 1) {
      const i = Math.floor(at);
      const a = i < 0 ? this.last : input[i];
      const b = i + 1 < n ? input[i + 1] : a;
      let s = a + (b - a) * (at - i);
      s = s > 1 ? 1 : s < -1 ? -1 : s;
      this.peak = Math.max(this.peak, Math.abs(s));
      this.frame[this.count++] = s < 0 ? s * 32768 : s * 32767;
      if (this.count === this.size) {
        const pcm = this.frame;
        this.port.postMessage({ pcm, peak: this.peak }, [pcm.buffer]); // detaches pcm
        this.frame = new Int16Array(this.size);
        this.count = 0;
        this.peak = 0;
      }
      at += this.step;
    }
    this.at = at - n;
    this.last = input[n - 1];
    return true;
  }
}

class OmniPlayer extends AudioWorkletProcessor {
  // Plays 24 kHz chunks back to back at the context's rate (linear interpolation across chunk
  // joins). Starts once PREBUFFER samples are queued (or the answer's audio is complete), and again
  // after running dry; each time it runs dry in the middle of an answer (the server makes speech
  // slower than real time) it waits for twice as much, up to a second, so that the answer plays on
  // in long stretches rather than in stutters. Reports how many samples of each answer item were
  // really played.
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.step = o.rate / sampleRate;
    this.prebuffer = o.prebuffer;
    this.maxPrebuffer = o.rate;
    this.queue = [];
    this.queued = 0;
    this.at = 0;
    this.playing = false;
    this.ended = new Set();
    this.played = new Map();
    this.sinceReport = 0;
    this.reportEvery = Math.round(sampleRate / 20);
    this.on = true;
    this.port.onmessage = (event) => this.command(event.data);
  }
  command(m) {
    if (m.type === 'push') {
      this.queue.push({ item: m.item, data: m.data });
      this.queued += m.data.length;
      if (!this.played.has(m.item)) this.played.set(m.item, 0);
    } else if (m.type === 'end') {
      this.ended.add(m.item);
      if (!this.queue.some((chunk) => chunk.item === m.item)) this.port.postMessage({ type: 'dry', item: m.item });
    } else if (m.type === 'flush') {
      const items = {};
      for (const chunk of this.queue) items[chunk.item] = this.position(chunk.item);
      this.queue = [];
      this.queued = 0;
      this.at = 0;
      this.playing = false;
      this.port.postMessage({ type: 'flushed', items });
    } else if (m.type === 'stop') {
      this.on = false;
    }
  }
  position(item) {
    let played = this.played.get(item) || 0;
    const head = this.queue[0];
    if (head && head.item === item) played += Math.min(Math.floor(this.at), head.data.length);
    return played;
  }
  report() {
    const head = this.queue[0];
    if (head) this.port.postMessage({ type: 'pos', item: head.item, played: this.position(head.item), playing: this.playing });
  }
  process(inputs, outputs) {
    if (!this.on) return false;
    const out = outputs[0][0];
    if (!this.playing) {
      const tail = this.queue[this.queue.length - 1];
      if (tail && (this.queued >= this.prebuffer || this.ended.has(tail.item))) {
        this.playing = true;
        this.report();
      } else {
        return true;
      }
    }
    for (let k = 0; k < out.length; k++) {
      const head = this.queue[0];
      if (!head) {
        this.playing = false;
        const last = this.lastItem;
        if (last !== undefined && !this.ended.has(last)) this.prebuffer = Math.min(2 * this.prebuffer, this.maxPrebuffer);
        this.port.postMessage({ type: 'dry', item: last });
        break;
      }
      this.lastItem = head.item;
      const i = Math.floor(this.at);
      const a = head.data[i];
      const next = this.queue[1];
      const b = i + 1 < head.data.length ? head.data[i + 1] : next && next.item === head.item ? next.data[0] : a;
      out[k] = a + (b - a) * (this.at - i);
      this.at += this.step;
      if (this.at >= head.data.length) {
        this.played.set(head.item, (this.played.get(head.item) || 0) + head.data.length);
        this.queued -= head.data.length;
        this.queue.shift();
        const following = this.queue[0];
        this.at = following && following.item === head.item ? this.at - head.data.length : 0;
        if (!following || following.item !== head.item) {
          this.port.postMessage({ type: 'pos', item: head.item, played: this.played.get(head.item), playing: false });
        }
      }
    }
    this.sinceReport += out.length;
    if (this.sinceReport >= this.reportEvery) {
      this.sinceReport = 0;
      this.report();
    }
    return true;
  }
}

registerProcessor('omni-mic', OmniMic);
registerProcessor('omni-player', OmniPlayer);
`;

  const root = element.querySelector('.omni-live');
  if (!root || root.dataset.ready) return;
  root.dataset.ready = '1';
  const $ = (selector) => root.querySelector(selector);
  const button = $('.live-start');
  const stateText = $('.live-state');
  const position = $('.live-pos');
  const level = $('.live-level i');
  const log = $('.live-log');
  const errorBox = $('.live-error');
  const cameraButton = $('.live-camera');
  const preview = $('.live-preview');

  // ------------------------------------------------------------------------------------ texts
  const lang = () => ((document.documentElement.lang || 'en').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en');
  const tr = (key, values = {}) => {
    const entry = TEXTS[key];
    const template = entry[lang()] || entry.en;
    return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ''));
  };
  const seconds = (ms) => (ms / 1000).toFixed(1);

  // ------------------------------------------------------------------------------------ state
  const live = {
    running: false,
    connecting: false,
    ws: null,
    ctx: null,
    stream: null,
    mic: null,
    player: null,
    settings: { ...SETUP.settings, ...(window.omniLiveSettings || {}) },
    settleTimer: null,
    items: new Map(), // item id -> {role, el, text, receivedMs, playedMs, cut, ended}
    pendingUser: null, // the bubble of the turn being spoken, before the server names its item
    response: null, // the answer being made: {id, itemId}
    waiting: false,
    queue: null, // {key, fields}: the server's sentence with the answer's place in the GPU's line
    hearing: false,
    sounding: false, // the player is producing sound
    playingItem: null, // the item the player holds
    flushing: new Set(), // items the player was told to drop, until it says how much it had played
    error: null, // {key, values} or {message}
    camera: null, // {stream, timer} while the camera is on
    picturesSent: 0, // pictures sent over the whole session (read by tests)
    state: 'idle',
    states: ['idle'], // every state shown, in order (the page's own record, read by tests)
  };
  if (window.omniLive && window.omniLive.stop) window.omniLive.stop();
  window.omniLive = live;

  const supported = Boolean(
    window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.AudioWorkletNode,
  );

  function paint() {
    root.querySelectorAll('[data-t]').forEach((node) => { node.textContent = tr(node.dataset.t); });
    button.textContent = tr(live.running || live.connecting ? 'live.stop' : 'live.start');
    button.disabled = !supported;
    cameraButton.textContent = tr(live.camera ? 'live.camera.off' : 'live.camera.on');
    cameraButton.setAttribute('aria-pressed', String(Boolean(live.camera)));
    cameraButton.disabled = !supported;
    root.classList.toggle('no-camera', !SETUP.camera);
    $('.live-insecure').hidden = supported;
    root.classList.toggle('unsupported', !supported);
    stateText.textContent = stateLabel();
    root.dataset.state = live.state;
    if (live.error) {
      errorBox.hidden = false;
      errorBox.textContent = live.error.key ? tr(live.error.key, live.error.values) : live.error.message;
    } else {
      errorBox.hidden = true;
    }
    for (const item of live.items.values()) paintItem(item);
    if (live.pendingUser) paintItem(live.pendingUser);
    paintPosition();
  }

  function paintPosition() {
    const item = live.playingItem && live.items.get(live.playingItem);
    position.textContent = item && live.state === 'speaking' ? tr('live.played', { seconds: seconds(item.playedMs) }) : '';
  }

  // Waiting for the GPU: the server's sentence with the place in line, once it has sent one.
  function stateLabel() {
    const queue = live.queue;
    if (live.state === 'waiting' && queue && TEXTS[queue.key]) return tr(queue.key, queue.fields);
    return tr(`live.state.${live.state}`);
  }

  function setState() {
    let state;
    if (live.connecting) state = 'connecting';
    else if (!live.running) state = 'idle';
    else if (live.hearing) state = 'hearing';
    else if (live.sounding) state = 'speaking';
    else if (live.response && live.waiting) state = 'waiting';
    else if (live.response) state = live.settings.speak ? 'thinking' : answered() ? 'answering' : 'thinking';
    else state = 'listening';
    if (state !== live.state) {
      live.state = state;
      live.states.push(state);
      root.dataset.state = state;
    }
    stateText.textContent = stateLabel(); // also when only the place in line moved
    paintPosition();
  }

  function answered() {
    const item = live.response && live.items.get(live.response.itemId);
    return Boolean(item && item.text);
  }

  function showError(error) {
    live.error = error;
    paint();
  }

  // ------------------------------------------------------------------------------------ the log
  function bubble(role) {
    const el = document.createElement('li');
    el.className = `live-turn ${role}`;
    const body = document.createElement('span');
    body.className = 'live-text';
    const meta = document.createElement('span');
    meta.className = 'live-meta';
    el.append(body, meta);
    log.append(el);
    log.scrollTop = log.scrollHeight;
    return { role, el, text: '', receivedMs: 0, playedMs: 0, cut: false, ended: false, spokenMs: null };
  }

  function paintItem(item) {
    const body = item.el.querySelector('.live-text');
    const meta = item.el.querySelector('.live-meta');
    if (item.role === 'user') {
      body.textContent = item.spokenMs == null ? tr('live.you.speaking') : tr('live.you.spoke', { seconds: seconds(item.spokenMs) });
      if (item.pictures) body.textContent += tr('live.pictures', { count: item.pictures });
      meta.textContent = '';
      return;
    }
    body.textContent = item.text || (item.cut ? tr('live.unheard') : '…');
    item.el.dataset.playedMs = String(Math.floor(item.playedMs));
    item.el.dataset.receivedMs = String(Math.round(item.receivedMs));
    item.el.classList.toggle('cut', item.cut);
    if (item.cut) {
      meta.textContent = tr('live.interrupted', { heard: seconds(item.playedMs), made: seconds(item.receivedMs) });
    } else if (item.receivedMs > 0) {
      meta.textContent = tr('live.progress', { played: seconds(item.playedMs), made: seconds(item.receivedMs) });
    } else {
      meta.textContent = '';
    }
  }

  function userBubble() {
    if (!live.pendingUser) {
      live.pendingUser = bubble('user');
      paintItem(live.pendingUser);
    }
    return live.pendingUser;
  }

  // ---------------------------------------------------------------------------------- protocol
  function send(event) {
    if (live.ws && live.ws.readyState === WebSocket.OPEN) live.ws.send(JSON.stringify(event));
  }

  function sessionUpdate() {
    const s = live.settings;
    const output = { format: { type: 'audio/pcm', rate: RATE } };
    if (SETUP.speech && s.voice) output.voice = s.voice;
    send({
      type: 'session.update',
      session: {
        instructions: s.instructions || '',
        output_modalities: SETUP.speech && s.speak ? ['audio'] : ['text'],
        max_output_tokens: s.maxTokens || 'inf',
        audio: {
          input: {
            format: { type: 'audio/pcm', rate: RATE },
            turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 },
          },
          output,
        },
      },
    });
  }

  function base64(pcm) {
    const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(binary);
  }

  function samples(b64) {
    const binary = atob(b64);
    const view = new DataView(new ArrayBuffer(binary.length));
    for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
    const out = new Float32Array(binary.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true) / 32768;
    return out;
  }

  function onEvent(event) {
    const kind = event.type;
    if (kind === 'session.updated') {
      if (live.connecting) {
        live.connecting = false;
        live.running = true;
        paint();
      }
    } else if (kind === 'input_audio_buffer.speech_started') {
      live.hearing = true;
      if (live.error) showError(null); // the talk goes on
      bargeIn();
      userBubble().startedAt = event.audio_start_ms;
    } else if (kind === 'input_audio_buffer.speech_stopped') {
      live.hearing = false;
      const user = userBubble();
      user.stoppedAt = event.audio_end_ms;
    } else if (kind === 'input_audio_buffer.committed') {
      const user = userBubble();
      user.spokenMs = Math.max(0, (user.stoppedAt || 0) - (user.startedAt || 0));
      live.items.set(event.item_id, user);
      live.pendingUser = null;
      paintItem(user);
    } else if (kind === 'conversation.item.added') {
      const item = event.item;
      const parts = item.content || [];
      const user = item.role === 'user' && live.items.get(item.id);
      if (user && parts.some((part) => part.type === 'input_audio')) {
        user.pictures = parts.filter((part) => part.type === 'input_image').length;
        paintItem(user);
      }
      if (item.role === 'assistant' && !live.items.has(item.id)) {
        live.items.set(item.id, bubble('assistant'));
        paintItem(live.items.get(item.id));
        if (live.response && !live.response.itemId) live.response.itemId = item.id;
      }
    } else if (kind === 'response.created') {
      live.response = { id: event.response.id, itemId: null };
      live.waiting = false;
      live.queue = null;
    } else if (kind === 'omni.waiting') {
      live.waiting = true;
      live.queue = event.sentence || null;
    } else if (kind === 'response.output_audio_transcript.delta' || kind === 'response.output_text.delta') {
      const item = answerItem(event);
      if (item && !item.cut) {
        item.text += event.delta;
        live.waiting = false;
        paintItem(item);
        log.scrollTop = log.scrollHeight;
      }
    } else if (kind === 'response.output_audio.delta') {
      const item = answerItem(event);
      if (item && !item.cut && live.player) {
        const data = samples(event.delta);
        item.receivedMs += (data.length * 1000) / RATE;
        live.waiting = false;
        live.playingItem = event.item_id;
        live.player.port.postMessage({ type: 'push', item: event.item_id, data }, [data.buffer]);
        paintItem(item);
      }
    } else if (kind === 'response.output_audio.done') {
      const item = answerItem(event);
      if (item) item.ended = true;
      if (live.player) live.player.port.postMessage({ type: 'end', item: event.item_id });
    } else if (kind === 'response.done') {
      if (event.response.status === 'cancelled') {
        // Cancelled by the server (the user spoke over it; this may come before or after
        // speech_started): the player's audio is cut where it stands, and an answer none of whose
        // audio had come was not heard at all.
        const itemId = live.response && live.response.itemId;
        bargeIn();
        const item = live.items.get(itemId);
        if (item && item.receivedMs === 0 && !live.flushing.has(itemId)) cut(itemId, 0);
      }
      live.response = null;
      live.waiting = false;
    } else if (kind === 'conversation.item.truncated') {
      send({ type: 'conversation.item.retrieve', item_id: event.item_id });
    } else if (kind === 'conversation.item.retrieved') {
      const item = live.items.get(event.item.id);
      const part = (event.item.content || [])[0] || {};
      if (item && item.cut) {
        item.text = item.playedMs > 0 ? part.transcript || '' : '';
        paintItem(item);
      }
    } else if (kind === 'error') {
      onError(event.error || {});
    }
    setState();
  }

  function answerItem(event) {
    if (live.response && !live.response.itemId) live.response.itemId = event.item_id;
    return live.items.get(event.item_id);
  }

  const ERROR_KEYS = { session_expired: 'live.expired', input_too_long: 'live.too_long' };

  function onError(error) {
    if (error.code === 'item_not_found') return; // an interrupted answer nothing of which was heard
    const key = ERROR_KEYS[error.code];
    if (key) {
      showError({ key });
      return;
    }
    const message = error.message || '';
    showError({ message });
    // The server's sentence in the page's language: the error carries its key and fields.
    if (lang() !== 'en' && error.sentence && server && server.live_sentence) {
      server.live_sentence(error.sentence, lang()).then((text) => {
        if (text && live.error && live.error.message === message) showError({ message: text });
      }).catch(() => {});
    }
  }

  // ----------------------------------------------------------------------------------- barge-in
  // The user speaks over the answer: stop its sound now; the player says how much of each answer
  // item it had played, and the server keeps that much of the answer (conversation.item.truncate).
  function bargeIn() {
    if (!live.player || !live.playingItem) return;
    const item = live.items.get(live.playingItem);
    if (!item || (item.ended && item.playedMs >= item.receivedMs - 1)) return;
    live.flushing.add(live.playingItem);
    live.playingItem = null;
    live.sounding = false;
    live.player.port.postMessage({ type: 'flush' });
  }

  function onPlayer(message) {
    if (message.type === 'pos') {
      const item = live.items.get(message.item);
      if (item && !item.cut) {
        item.playedMs = message.played / (RATE / 1000);
        paintItem(item);
      }
      if (message.playing && message.item === live.playingItem) live.sounding = true;
    } else if (message.type === 'dry') {
      // Played to its end, or waiting for more of it (then the answer is still being spoken).
      const item = live.items.get(live.playingItem);
      if (!item || item.ended) {
        live.playingItem = null;
        live.sounding = false;
      }
    } else if (message.type === 'flushed') {
      // An item the player had run dry of is not in its queue: its last reported position holds.
      const ids = new Set([...live.flushing, ...Object.keys(message.items)]);
      live.flushing.clear();
      for (const id of ids) {
        const item = live.items.get(id);
        if (item) cut(id, id in message.items ? message.items[id] / (RATE / 1000) : item.playedMs);
      }
    }
    setState();
  }

  // An answer stops at `playedMs` of its speech: the page and the server keep what was heard.
  function cut(id, playedMs) {
    const item = live.items.get(id);
    if (!item || item.cut || !(SETUP.speech && live.settings.speak)) return;
    item.cut = true;
    item.playedMs = playedMs;
    paintItem(item);
    send({ type: 'conversation.item.truncate', item_id: id, content_index: 0, audio_end_ms: Math.floor(playedMs) });
  }

  // -------------------------------------------------------------------------------- start, stop
  function socketUrl() {
    let base = location.pathname;
    try {
      if (window.gradio_config && window.gradio_config.root) base = new URL(window.gradio_config.root, location.href).pathname;
    } catch (err) {
      // keep the page's own path
    }
    base = base.replace(/\/+$/, '');
    return (location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host + base + '/v1/realtime';
  }

  async function start() {
    live.error = null;
    live.connecting = true;
    live.items.clear();
    live.pendingUser = null;
    live.response = null;
    live.playingItem = null;
    live.flushing.clear();
    live.sounding = live.hearing = live.waiting = false;
    clearTimeout(live.settleTimer); // the session starts with the settings as they are
    log.replaceChildren();
    setState();
    paint();
    const ctx = new AudioContext({ latencyHint: 'interactive' });
    live.ctx = ctx;
    let stream;
    try {
      const url = URL.createObjectURL(new Blob([WORKLETS], { type: 'text/javascript' }));
      await ctx.audioWorklet.addModule(url);
      URL.revokeObjectURL(url);
      await ctx.resume();
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
      });
    } catch (err) {
      if (live.ctx !== ctx) return; // Stop was pressed meanwhile
      stop();
      const denied = err && (err.name === 'NotAllowedError' || err.name === 'SecurityError');
      showError(denied ? { key: 'live.mic_denied' } : { key: 'live.mic_failed', values: { error: err && err.name } });
      return;
    }
    if (live.ctx !== ctx) { // Stop was pressed meanwhile
      stream.getTracks().forEach((track) => track.stop());
      return;
    }
    live.stream = stream;
    let input = ctx.createMediaStreamSource(stream);
    if (ctx.sampleRate > RATE) {
      // Nothing above 24 kHz's Nyquist frequency may reach the resampler.
      const lowpass = new BiquadFilterNode(ctx, { type: 'lowpass', frequency: RATE * 0.45, Q: 0.707 });
      input.connect(lowpass);
      input = lowpass;
    }
    live.mic = new AudioWorkletNode(ctx, 'omni-mic', { processorOptions: { rate: RATE, frame: FRAME } });
    input.connect(live.mic);
    live.mic.connect(ctx.destination); // silent: keeps the node pulled in every browser
    live.mic.port.onmessage = (event) => {
      level.style.width = `${Math.min(100, Math.round(Math.sqrt(event.data.peak) * 100))}%`;
      if (live.running) send({ type: 'input_audio_buffer.append', audio: base64(event.data.pcm) });
    };
    live.player = new AudioWorkletNode(ctx, 'omni-player', {
      numberOfInputs: 0,
      outputChannelCount: [1],
      processorOptions: { rate: RATE, prebuffer: PREBUFFER },
    });
    live.player.connect(ctx.destination);
    live.player.port.onmessage = (event) => onPlayer(event.data);
    const ws = new WebSocket(socketUrl());
    live.ws = ws;
    ws.onopen = () => sessionUpdate();
    ws.onmessage = (event) => onEvent(JSON.parse(event.data));
    ws.onclose = (event) => {
      if (live.ws !== ws) return;
      const wasLive = live.running || live.connecting;
      stop();
      if (wasLive && !live.error) showError({ key: event.code === 1008 ? 'live.login' : 'live.closed' });
    };
  }

  function stop() {
    const ws = live.ws;
    live.ws = null;
    if (ws) ws.close();
    if (live.mic) live.mic.port.postMessage('stop');
    if (live.player) live.player.port.postMessage({ type: 'stop' });
    if (live.stream) live.stream.getTracks().forEach((track) => track.stop());
    cameraOff();
    if (live.ctx) live.ctx.close().catch(() => {});
    live.ctx = live.stream = live.mic = live.player = null;
    live.running = live.connecting = false;
    live.hearing = live.sounding = live.waiting = false;
    live.response = null;
    live.playingItem = null;
    level.style.width = '0%';
    setState();
    paint();
  }
  live.stop = stop;

  button.addEventListener('click', () => (live.running || live.connecting ? stop() : start()));

  // ------------------------------------------------------------------------------------ camera
  // While on, a picture a second goes to the server as a conversation.item.create (input_image);
  // the server keeps the newest few for the next turn. Only while a session runs: Stop turns it off.
  async function cameraOn() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: PICTURE_SIDE }, facingMode: 'user' } });
    } catch (err) {
      showError({ key: 'live.camera_failed', values: { error: err && err.name } });
      return;
    }
    if (live.camera || !(live.running || live.connecting)) { // pressed twice, or Stop meanwhile
      stream.getTracks().forEach((track) => track.stop());
      return;
    }
    preview.srcObject = stream;
    preview.hidden = false;
    preview.play().catch(() => {});
    live.camera = { stream, timer: setInterval(sendPicture, PICTURE_MS) };
    paint();
  }

  function cameraOff() {
    if (!live.camera) return;
    clearInterval(live.camera.timer);
    live.camera.stream.getTracks().forEach((track) => track.stop());
    live.camera = null;
    preview.srcObject = null;
    preview.hidden = true;
    paint();
  }

  function sendPicture() {
    const width = preview.videoWidth;
    const height = preview.videoHeight;
    if (!live.running || !width || !height) return;
    const scale = Math.min(1, PICTURE_SIDE / Math.max(width, height));
    const canvas = live.canvas || (live.canvas = document.createElement('canvas')); // one for the session
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    canvas.getContext('2d').drawImage(preview, 0, 0, canvas.width, canvas.height);
    const url = canvas.toDataURL('image/jpeg', 0.7);
    send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_image', image_url: url }] } });
    live.picturesSent += 1;
  }

  cameraButton.addEventListener('click', () => {
    if (live.camera) cameraOff();
    else if (live.running || live.connecting) cameraOn();
    else start().then(() => { if (live.running || live.connecting) cameraOn(); });
  });

  // ---------------------------------------------------------------------------------- settings
  // The Gradio controls beside the panel send their values with a DOM event (see live.py).
  window.addEventListener('omni-live-settings', (event) => {
    live.settings = { ...live.settings, ...event.detail };
    clearTimeout(live.settleTimer);
    live.settleTimer = setTimeout(() => { if (live.running || live.connecting) sessionUpdate(); }, SETTLE_MS);
  });

  new MutationObserver(paint).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  paint();
})();
