// The web page, on the public API only: sign in with an API token, upload (resumable, with tus), browse, play,
// view and download your media, and hear live when a file is ready. No build step: plain ES modules; the HLS
// player and the tus client are loaded only when they are needed.

const $ = (sel, root = document) => root.querySelector(sel);
const state = {
  token: localStorage.getItem('token'),
  config: { gatewayUrl: '', notifierUrl: '' },
  socket: null,
  media: new Map(),
  cursor: null,
  notes: new Map(),
  wasConnected: false,
  failures: 0,
  loadedAt: Date.now(),
  player: null,
  openId: null,
};

// ── small helpers ────────────────────────────────────────────────────────────────────────────────────────
/** An element: h('p', { class: 'x', onclick }, 'text', child). Text is always text, never HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}
const icon = (name, cls = '') => {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('aria-hidden', 'true');
  if (cls) svg.setAttribute('class', cls);
  const use = document.createElementNS('http://www.w3.org/2000/svg', 'use');
  use.setAttribute('href', `icons.svg#i-${name}`);
  svg.append(use);
  return svg;
};
function bytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return i === 0 ? `${v} bytes` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
function duration(ms) {
  if (!ms && ms !== 0) return '';
  const s = Math.round(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const when = (iso) => dateFmt.format(new Date(iso));
function ago(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return when(iso);
}
const KIND = { audio: 'Audio', video: 'Video', image: 'Photo' };
const displayName = (m) => m.originalName || m.name;

// ── API ──────────────────────────────────────────────────────────────────────────────────────────────────
class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
async function call(base, path, init = {}) {
  let res;
  try {
    res = await fetch(base + path, {
      ...init,
      headers: { ...(init.headers || {}), authorization: `Bearer ${state.token}` },
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server could not be reached. Check your connection and try again.');
  }
  if (res.status === 401) {
    signOut('That token was not accepted. It may have been revoked: ask for a new one.');
    throw new ApiError(401, 'UNAUTHENTICATED', 'Signed out.');
  }
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok)
    throw new ApiError(res.status, body?.error?.code ?? 'HTTP', body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}
const api = (path, init) => call(state.config.gatewayUrl, path, init);
const notifierApi = (path, init) => call(state.config.notifierUrl, path, init);

// ── sign in / out ────────────────────────────────────────────────────────────────────────────────────────
function signOut(message = '') {
  localStorage.removeItem('token');
  state.token = null;
  state.socket?.disconnect();
  state.socket = null;
  closeDetail();
  $('#app').hidden = true;
  $('#top-actions').hidden = true;
  $('#panel').hidden = true;
  $('#signin').hidden = false;
  $('#signin-error').textContent = message;
}

async function signIn(token) {
  state.token = token;
  $('#signin-error').textContent = '';
  try {
    await api('/v1/media?limit=1');
  } catch (err) {
    if (err.status !== 401) $('#signin-error').textContent = err.message;
    if (err.status !== 401) state.token = null;
    return;
  }
  localStorage.setItem('token', token);
  $('#signin').hidden = true;
  $('#app').hidden = false;
  $('#top-actions').hidden = false;
  state.media.clear();
  state.notes.clear();
  $('#grid').replaceChildren();
  renderNotes();
  await loadMedia();
  loadNotes().catch(() => {});
  connectSocket();
}

// ── media library ────────────────────────────────────────────────────────────────────────────────────────
async function loadMedia(cursor) {
  const page = await api(`/v1/media?limit=24${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  for (const m of page.items) {
    if (!state.media.has(m.id)) state.media.set(m.id, m);
    renderCard(state.media.get(m.id), { append: true });
  }
  state.cursor = page.nextCursor;
  $('#more').hidden = !page.nextCursor;
  updateCounts();
  // The cards' previews and durations come with each media's detail; a few at a time.
  await mapLimit(page.items, 6, (m) => refreshMedia(m.id).catch(() => {}));
}

async function mapLimit(items, limit, fn) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      while (queue.length) await fn(queue.shift());
    }),
  );
}

async function refreshMedia(id) {
  try {
    const m = await api(`/v1/media/${id}`);
    state.media.set(id, m);
    renderCard(m);
    if (state.openId === id) renderDetailInfo(m);
    return m;
  } catch (err) {
    if (err.status === 404) removeMedia(id);
    throw err;
  }
}

function removeMedia(id) {
  state.media.delete(id);
  document.getElementById(`media-${id}`)?.remove();
  for (const n of [...state.notes.values()]) if (n.mediaId === id) state.notes.delete(n.id);
  renderNotes();
  updateCounts();
  if (state.openId === id) closeDetail();
}

function updateCounts() {
  const n = state.media.size;
  $('#count').textContent = n ? `${n}${state.cursor ? '+' : ''} ${n === 1 ? 'file' : 'files'}` : '';
  $('#empty').hidden = n > 0;
  $('#grid').hidden = n === 0;
}

function longestDuration(m) {
  const ds = (m.outputs || []).map((o) => o.durationMs).filter(Boolean);
  return ds.length ? Math.max(...ds) : null;
}

function statusLine(m) {
  if (m.status === 'failed') return { text: 'Could not be processed', failed: true };
  // The duration is on the picture.
  if (m.status === 'complete') return { text: `${KIND[m.kind]} · ${bytes(m.size)}` };
  if (m.status === 'processing') return { text: `Processing${m.progress != null ? ` ${m.progress}%` : '…'}` };
  return { text: 'Waiting to be processed…' };
}

function thumbFor(m) {
  const kind = m.kind;
  const d = m.status === 'complete' ? longestDuration(m) : null;
  const overlay =
    m.status === 'failed'
      ? 'Could not be processed'
      : m.status === 'complete'
        ? null
        : m.status === 'processing'
          ? `Processing${m.progress != null ? ` ${m.progress}%` : '…'}`
          : 'Waiting…';
  // The button's name holds every word drawn on the picture, so what is seen is what is announced.
  const label = [`Open ${displayName(m)}`, overlay, d ? duration(d) : null].filter(Boolean).join(', ');
  const thumb = h('button', { class: 'thumb', type: 'button', dataset: { open: m.id, kind }, 'aria-label': label });
  if (kind === 'audio') {
    const wave = h('span', { class: 'wave', 'aria-hidden': 'true' });
    // A decorative waveform, the same for a file every time (from its id).
    let seed = parseInt(m.id.slice(0, 8), 16);
    for (let i = 0; i < 28; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      wave.append(h('i', { style: `height:${20 + (seed % 80)}%` }));
    }
    thumb.append(wave, h('span', { class: 'corner' }, icon('audio')));
  } else if (m.previewUrl) {
    const img = h('img', { src: m.previewUrl, alt: '', loading: 'lazy', decoding: 'async' });
    img.addEventListener('error', () => {
      img.remove();
      thumb.prepend(icon(kind, 'kind-icon'));
    });
    thumb.append(img);
  } else {
    thumb.append(icon(kind === 'image' ? 'image' : 'video', 'kind-icon'));
  }
  if (m.status === 'complete' && kind !== 'image') thumb.append(h('span', { class: 'play-badge' }, icon('play')));
  if (d) thumb.append(h('span', { class: 'duration' }, duration(d)));
  if (m.status === 'failed') {
    thumb.append(h('span', { class: 'overlay failed' }, icon('alert'), overlay));
  } else if (overlay) {
    thumb.append(
      h(
        'span',
        { class: 'overlay' },
        overlay,
        h('span', { class: 'bar', role: 'presentation' }, h('span', { style: `width:${m.progress ?? 0}%` })),
      ),
    );
  }
  return thumb;
}

function renderCard(m, { append = false, prepend = false } = {}) {
  let li = document.getElementById(`media-${m.id}`);
  const fresh = !li;
  if (fresh) li = h('li', { class: 'card', id: `media-${m.id}`, dataset: { mediaId: m.id, status: m.status } });
  const line = statusLine(m);
  li.dataset.status = m.status;
  li.dataset.kind = m.kind;
  li.replaceChildren(
    thumbFor(m),
    h(
      'div',
      { class: 'meta' },
      h(
        'div',
        { class: 'meta-text' },
        h('p', { class: 'name', title: displayName(m) }, displayName(m)),
        h('p', { class: `sub${line.failed ? ' failed' : ''}` }, line.text),
      ),
      h(
        'button',
        { class: 'icon-btn', type: 'button', dataset: { delete: m.id }, 'aria-label': `Delete ${displayName(m)}` },
        icon('trash'),
      ),
    ),
  );
  if (fresh) {
    if (prepend || (!append && !state.cursor)) $('#grid').prepend(li);
    else $('#grid').append(li);
  }
  updateCounts();
}

// ── detail, players and lightbox ─────────────────────────────────────────────────────────────────────────
async function openDetail(id) {
  const dialog = $('#detail');
  state.openId = id;
  const m = state.media.get(id);
  $('#detail-title').textContent = m ? displayName(m) : '';
  $('#detail-body').replaceChildren(h('p', { class: 'stage-note' }, 'Loading…'));
  if (!dialog.open) dialog.showModal();
  let fresh;
  try {
    fresh = await refreshMedia(id);
  } catch (err) {
    if (state.openId === id) $('#detail-body').replaceChildren(h('p', { class: 'detail-section' }, err.message));
    return;
  }
  if (state.openId !== id) return;
  renderDetail(fresh);
}

function closeDetail() {
  state.player?.destroy();
  state.player = null;
  state.openId = null;
  const dialog = $('#detail');
  if (dialog.open) dialog.close();
  $('#detail-body').replaceChildren();
}

function renderDetail(m) {
  $('#detail-title').textContent = displayName(m);
  const stage = h('div', { class: `stage ${m.kind}`, id: 'stage' });
  $('#detail-body').replaceChildren(stage, h('div', { id: 'detail-info', class: 'detail-info' }));
  renderDetailInfo(m);
  fillStage(stage, m).catch((err) => {
    stage.replaceChildren(h('p', { class: 'stage-note' }, err.message));
  });
}

function completeOutputs(m, kind) {
  return (m.outputs || []).filter((o) => o.status === 'complete' && (!kind || o.kind === kind));
}

async function fillStage(stage, m) {
  if (m.status !== 'complete') {
    const text =
      m.status === 'failed'
        ? 'There is nothing to play: this file could not be processed.'
        : `This file is still being processed${m.progress != null ? ` (${m.progress}%)` : ''}. It plays here once it is ready.`;
    stage.replaceChildren(h('p', { class: 'stage-note' }, text));
    return;
  }
  if (m.kind === 'image') {
    const best = completeOutputs(m, 'image').sort((a, b) => (b.width ?? 0) - (a.width ?? 0))[0];
    if (!best) throw new Error('There is no picture to show.');
    const { url } = await api(`/v1/media/${m.id}/outputs/${best.id}/download?redirect=false`);
    const img = h('img', { src: url, alt: displayName(m), title: 'Click to zoom' });
    img.addEventListener('click', () => stage.classList.toggle('zoomed'));
    stage.replaceChildren(img);
    return;
  }
  if (m.kind === 'audio') {
    const outs = completeOutputs(m, 'audio');
    const best = outs.find((o) => o.contentType === 'audio/mp4') ?? outs.find((o) => o.format === 'mp3') ?? outs[0];
    if (!best) throw new Error('There is no audio to play.');
    const { url } = await api(`/v1/media/${m.id}/outputs/${best.id}/download?redirect=false`);
    const audio = h('audio', { controls: true, preload: 'metadata', src: url, 'aria-label': `Play ${displayName(m)}` });
    stage.replaceChildren(icon('audio'), audio);
    state.player = { destroy: () => audio.pause() };
    audio.play().catch(() => {});
    return;
  }
  const video = h('video', {
    controls: true,
    playsinline: true,
    preload: 'metadata',
    poster: m.previewUrl,
    'aria-label': `Play ${displayName(m)}`,
  });
  stage.replaceChildren(video);
  if (m.streamable) {
    const link = await api(`/v1/media/${m.id}/stream`);
    const { playStream } = await import('./player.js');
    if (state.openId !== m.id) return;
    state.player = await playStream(video, link.masterUrl, (message) =>
      stage.append(h('p', { class: 'stage-note' }, message)),
    );
  } else {
    const mp4 = completeOutputs(m, 'video')[0];
    if (!mp4) throw new Error('There is no video to play.');
    video.src = (await api(`/v1/media/${m.id}/outputs/${mp4.id}/download?redirect=false`)).url;
    state.player = { destroy: () => video.pause() };
  }
  video.play().catch(() => {});
}

function renderDetailInfo(m) {
  const info = $('#detail-info');
  if (!info) return;
  const parts = [];
  if (m.failure) {
    parts.push(
      h(
        'div',
        { class: 'detail-section' },
        h(
          'div',
          { class: 'problem', role: 'alert' },
          icon('alert'),
          h(
            'div',
            {},
            h('p', {}, m.failure.message),
            m.failure.detail
              ? h('details', {}, h('summary', {}, 'Technical details'), h('p', {}, m.failure.detail))
              : null,
          ),
        ),
      ),
    );
  }
  const video = completeOutputs(m).find((o) => o.width && o.height && o.kind !== 'image');
  const image = completeOutputs(m, 'image').sort((a, b) => (b.width ?? 0) - (a.width ?? 0))[0];
  const facts = [
    ['File name', displayName(m)],
    ['Type', `${KIND[m.kind]} (${m.contentType})`],
    ['Size', bytes(m.size)],
    longestDuration(m) ? ['Duration', duration(longestDuration(m))] : null,
    video ? ['Resolution', `${video.width} × ${video.height}`] : null,
    !video && image && m.kind === 'image' ? ['Picture', `${image.width * 2} × ${image.height * 2} (about)`] : null,
    ['Uploaded', when(m.createdAt)],
    m.updatedAt !== m.createdAt ? ['Last change', when(m.updatedAt)] : null,
  ].filter(Boolean);
  parts.push(
    h(
      'section',
      { class: 'detail-section', 'aria-labelledby': 'facts-h' },
      h('h3', { id: 'facts-h' }, 'About this file'),
      h(
        'dl',
        { class: 'facts' },
        facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      ),
    ),
  );
  const files = completeOutputs(m).filter((o) => o.kind !== 'stream');
  if (files.length) {
    parts.push(
      h(
        'section',
        { class: 'detail-section', 'aria-labelledby': 'files-h' },
        h('h3', { id: 'files-h' }, 'Downloads'),
        h(
          'ul',
          { class: 'files' },
          files.map((o) =>
            h(
              'li',
              { class: 'file' },
              h(
                'div',
                { class: 'file-text' },
                h('p', { class: 'file-label' }, o.label),
                h(
                  'p',
                  { class: 'file-sub' },
                  [bytes(o.size), o.durationMs ? duration(o.durationMs) : '', o.width ? `${o.width} × ${o.height}` : '']
                    .filter(Boolean)
                    .join(' · '),
                ),
              ),
              h(
                'button',
                {
                  class: 'btn',
                  type: 'button',
                  dataset: { download: o.id, media: m.id },
                  'aria-label': `Download ${o.label}`,
                },
                icon('download'),
                'Download',
              ),
            ),
          ),
        ),
      ),
    );
  }
  parts.push(
    h(
      'div',
      { class: 'detail-actions' },
      h(
        'button',
        {
          class: 'btn danger-outline',
          type: 'button',
          dataset: { delete: m.id },
          'aria-label': `Delete ${displayName(m)}`,
        },
        icon('trash'),
        'Delete',
      ),
    ),
  );
  info.replaceChildren(...parts);
}

async function download(mediaId, outputId) {
  try {
    const { url } = await api(`/v1/media/${mediaId}/outputs/${outputId}/download?redirect=false`);
    const a = h('a', { href: url, download: '' });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (err) {
    toast(`The download could not start: ${err.message}`, { bad: true });
  }
}

// ── delete, after asking ─────────────────────────────────────────────────────────────────────────────────
function confirmDelete(id) {
  const m = state.media.get(id);
  const dialog = $('#confirm');
  $('#confirm-title').textContent = `Delete “${m ? displayName(m) : 'this file'}”?`;
  dialog.returnValue = '';
  dialog.showModal();
  dialog.addEventListener(
    'close',
    async () => {
      if (dialog.returnValue !== 'delete') return;
      try {
        await api(`/v1/media/${id}`, { method: 'DELETE' });
        removeMedia(id);
        toast(`Deleted “${m ? displayName(m) : 'the file'}”.`);
      } catch (err) {
        if (err.status === 404) removeMedia(id);
        else toast(`It could not be deleted: ${err.message}`, { bad: true });
      }
    },
    { once: true },
  );
}

// ── uploads: a queue with per-file progress, cancel and retry; resumable (tus) ──────────────────────────
let tusLoading = null;
function loadTus() {
  tusLoading ??= new Promise((resolve, reject) => {
    const s = h('script', { src: '/vendor/tus.min.js' });
    s.onload = () => (window.tus ? resolve(window.tus) : reject(new Error('no tus')));
    s.onerror = () => reject(new Error('The upload helper could not be loaded.'));
    document.head.append(s);
  }).catch((err) => {
    tusLoading = null;
    throw err;
  });
  return tusLoading;
}

const UPLOAD_WORDS = {
  415: 'This is not an audio, video or image file that can be read.',
  413: 'This file is larger than this server accepts.',
  400: 'The server refused this file.',
};

let jobSeq = 0;
function enqueueFiles(files) {
  for (const file of files) startJob({ id: `job-${++jobSeq}`, file });
}

function renderJob(job) {
  let li = document.getElementById(job.id);
  if (!li) {
    li = h('li', { class: 'job', id: job.id });
    $('#queue').prepend(li);
  }
  li.dataset.state = job.state;
  const pct = Math.round((job.progress ?? 0) * 100);
  const status =
    job.state === 'uploading'
      ? `${pct}% · ${bytes(job.sent ?? 0)} of ${bytes(job.file.size)}`
      : job.state === 'done'
        ? 'Uploaded. Processing starts now.'
        : job.state === 'failed'
          ? job.message
          : job.state === 'canceled'
            ? 'Canceled.'
            : 'Starting…';
  const actions = [];
  if (job.state === 'uploading' || job.state === 'starting')
    actions.push(
      h(
        'button',
        { class: 'btn small', type: 'button', 'aria-label': `Cancel ${job.file.name}`, onclick: () => cancelJob(job) },
        'Cancel',
      ),
    );
  if (job.state === 'failed' || job.state === 'canceled')
    actions.push(
      h(
        'button',
        { class: 'btn small', type: 'button', 'aria-label': `Retry ${job.file.name}`, onclick: () => startJob(job) },
        icon('retry'),
        'Retry',
      ),
      h(
        'button',
        {
          class: 'icon-btn',
          type: 'button',
          'aria-label': `Remove ${job.file.name} from the list`,
          onclick: () => li.remove(),
        },
        icon('close'),
      ),
    );
  li.replaceChildren(
    h('p', { class: 'job-name', title: job.file.name }, job.file.name),
    h(
      'span',
      {
        class: 'bar',
        role: 'progressbar',
        'aria-label': `Upload of ${job.file.name}`,
        'aria-valuemin': '0',
        'aria-valuemax': '100',
        'aria-valuenow': String(pct),
      },
      h('span', { style: `width:${pct}%` }),
    ),
    h('p', { class: 'job-status', role: job.state === 'failed' ? 'alert' : null }, status),
    h('div', { class: 'job-actions' }, actions),
  );
}

async function startJob(job) {
  Object.assign(job, { state: 'starting', progress: 0, sent: 0, message: '' });
  renderJob(job);
  let tus = null;
  try {
    tus = await loadTus();
  } catch {
    tus = null;
  }
  if (tus?.isSupported) startTus(job, tus);
  else startMultipart(job);
}

function uploadFailed(job, status, message) {
  job.state = 'failed';
  job.message = UPLOAD_WORDS[status] ?? message ?? 'The upload stopped. Check your connection and retry.';
  renderJob(job);
}

async function uploaded(job, mediaId) {
  job.state = 'done';
  job.progress = 1;
  renderJob(job);
  setTimeout(() => document.getElementById(job.id)?.remove(), 4000);
  if (!mediaId) return refreshFirstPage();
  const m = await api(`/v1/media/${mediaId}`).catch(() => null);
  if (m) {
    state.media.set(m.id, m);
    renderCard(m, { prepend: true });
  }
}

function startTus(job, tus) {
  let mediaId = null;
  const upload = new tus.Upload(job.file, {
    endpoint: `${state.config.gatewayUrl}/v1/uploads`,
    headers: { authorization: `Bearer ${state.token}` },
    metadata: { filename: job.file.name, filetype: job.file.type },
    chunkSize: 16 * 1024 * 1024,
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
    removeFingerprintOnSuccess: true,
    onProgress(sent, total) {
      job.state = 'uploading';
      job.sent = sent;
      job.progress = total ? sent / total : 0;
      renderJob(job);
    },
    onAfterResponse(_req, res) {
      mediaId = res.getHeader('Media-Id') || mediaId;
    },
    onSuccess() {
      uploaded(job, mediaId);
    },
    onError(err) {
      if (job.state === 'canceled') return;
      const res = err.originalResponse;
      let message;
      try {
        message = JSON.parse(res?.getBody() || 'null')?.error?.message;
      } catch {
        message = undefined;
      }
      uploadFailed(job, res?.getStatus(), message);
    },
  });
  job.abort = () => upload.abort(true);
  // A file uploaded partly before (this browser, this file) continues where it stopped.
  upload
    .findPreviousUploads()
    .then((previous) => {
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    })
    .catch(() => upload.start());
}

function startMultipart(job) {
  const form = new FormData();
  form.append('name', job.file.name);
  form.append('file', job.file, job.file.name);
  const xhr = new XMLHttpRequest();
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    job.state = 'uploading';
    job.sent = e.loaded;
    job.progress = e.loaded / e.total;
    renderJob(job);
  };
  xhr.onload = () => {
    const body = JSON.parse(xhr.responseText || 'null');
    if (xhr.status === 201) uploaded(job, body.id);
    else uploadFailed(job, xhr.status, body?.error?.message);
  };
  xhr.onerror = () => uploadFailed(job, 0);
  xhr.open('POST', `${state.config.gatewayUrl}/v1/media`);
  xhr.setRequestHeader('authorization', `Bearer ${state.token}`);
  xhr.send(form);
  job.abort = () => xhr.abort();
}

function cancelJob(job) {
  job.state = 'canceled';
  job.abort?.();
  renderJob(job);
}

/** The newest page again: files added elsewhere appear, files deleted elsewhere (in its span) go. */
async function refreshFirstPage() {
  const page = await api('/v1/media?limit=24').catch(() => null);
  if (!page) return;
  const listed = new Set(page.items.map((m) => m.id));
  const oldest = page.items.at(-1)?.createdAt;
  for (const m of [...state.media.values()])
    if (!listed.has(m.id) && (!page.nextCursor || (oldest && m.createdAt >= oldest))) removeMedia(m.id);
  for (const m of [...page.items].reverse()) {
    if (!state.media.has(m.id)) {
      state.media.set(m.id, m);
      renderCard(m, { prepend: true });
      refreshMedia(m.id).catch(() => {});
    }
  }
}

// ── notifications: bell, panel, toasts ──────────────────────────────────────────────────────────────────
/**
 * The notifications as the notifier has them: the newest 50 and every unread one. What is held here and no
 * longer there (a deleted file's, from this or another tab) goes; what arrived live while this was asked stays.
 */
async function loadNotes() {
  const [all, unread] = await Promise.all([
    notifierApi('/v1/notifications?limit=50'),
    notifierApi('/v1/notifications?unread=true&limit=100'),
  ]);
  const fresh = [...all.items, ...unread.items];
  const newest = Math.max(0, ...fresh.map((n) => Number(n.id)));
  const oldest = Math.min(...all.items.map((n) => Number(n.id)));
  const ids = new Set(fresh.map((n) => n.id));
  for (const n of [...state.notes.values()]) {
    const id = Number(n.id);
    if (!ids.has(n.id) && id <= newest && (id >= oldest || !n.readAt)) state.notes.delete(n.id);
  }
  for (const n of fresh) state.notes.set(n.id, n);
  renderNotes();
}

function addNote(n) {
  const known = state.notes.has(n.id);
  state.notes.set(n.id, { ...state.notes.get(n.id), ...n });
  renderNotes();
  if (!known && !n.readAt && Date.parse(n.createdAt) >= state.loadedAt - 2000) toast(n.text, { mediaId: n.mediaId });
  if (n.mediaId) refreshMedia(n.mediaId).catch(() => {});
}

function renderNotes() {
  const list = [...state.notes.values()].sort((a, b) => Number(b.id) - Number(a.id)).slice(0, 100);
  const unread = list.filter((n) => !n.readAt).length;
  const badge = $('#unread');
  badge.hidden = unread === 0;
  badge.textContent = unread > 99 ? '99+' : String(unread);
  $('#bell-label').textContent = unread ? `Notifications, ${unread} unread` : 'Notifications';
  $('#read-all').disabled = unread === 0;
  $('#notes-empty').hidden = list.length > 0;
  $('#notes').replaceChildren(
    ...list.map((n) =>
      h(
        'li',
        { class: `note${n.readAt ? '' : ' unread'}`, id: `note-${n.id}`, dataset: { noteId: n.id } },
        h(
          'button',
          { type: 'button', dataset: { note: n.id } },
          h('span', { class: 'unread-dot', 'aria-hidden': 'true' }),
          h('span', { class: 'note-text' }, n.text, n.readAt ? '' : h('span', { class: 'sr-only' }, ' (unread)')),
          h('span', { class: 'note-time' }, ago(n.createdAt)),
        ),
      ),
    ),
  );
}

function markReadLocally(ids) {
  const now = new Date().toISOString();
  for (const n of state.notes.values()) if (ids === 'all' || ids.includes(n.id)) n.readAt ??= now;
  renderNotes();
}

async function readAll() {
  try {
    await notifierApi('/v1/notifications/read-all', { method: 'POST' });
    markReadLocally('all');
  } catch (err) {
    toast(`Could not mark them read: ${err.message}`, { bad: true });
  }
}

async function openNote(id) {
  const n = state.notes.get(id);
  if (!n) return;
  if (!n.readAt) {
    markReadLocally([id]);
    notifierApi(`/v1/notifications/${id}/read`, { method: 'POST' }).catch(() => {});
  }
  if (n.mediaId && state.media.has(n.mediaId)) {
    togglePanel(false);
    openDetail(n.mediaId);
  }
}

function togglePanel(open = $('#panel').hidden) {
  $('#panel').hidden = !open;
  $('#bell').setAttribute('aria-expanded', String(open));
  if (open) $('#read-all').focus();
}

function toast(text, { bad = false, mediaId = null } = {}) {
  const el = h(
    'div',
    { class: `toast${bad ? ' bad' : ''}`, role: bad ? 'alert' : 'status' },
    h('p', {}, text),
    mediaId
      ? h(
          'button',
          {
            class: 'btn small',
            type: 'button',
            onclick: () => {
              el.remove();
              if (state.media.has(mediaId)) openDetail(mediaId);
            },
          },
          'Open',
        )
      : null,
    h(
      'button',
      { class: 'icon-btn', type: 'button', 'aria-label': 'Dismiss', onclick: () => el.remove() },
      icon('close'),
    ),
  );
  $('#toasts').append(el);
  while ($('#toasts').children.length > 3) $('#toasts').firstElementChild.remove();
  setTimeout(() => el.classList.add('fade'), 5000);
  setTimeout(() => el.remove(), 5500);
}

// ── live connection ──────────────────────────────────────────────────────────────────────────────────────
function setConn(kind) {
  const el = $('#conn');
  el.dataset.state = kind;
  const words = {
    connecting: 'Connecting…',
    live: 'Live',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
  };
  $('.conn-text', el).textContent = words[kind];
  el.title =
    kind === 'live'
      ? 'Updates arrive as they happen.'
      : kind === 'offline'
        ? 'Live updates are paused; they resume by themselves when the connection is back.'
        : 'Trying to reach the notification service…';
}

let ioLoading = null;
function loadSocketIo() {
  ioLoading ??= new Promise((resolve, reject) => {
    const s = h('script', { src: `${state.config.notifierUrl}/socket.io/socket.io.min.js` });
    s.onload = () => resolve(window.io);
    s.onerror = () => {
      s.remove();
      reject(new Error('unreachable'));
    };
    document.head.append(s);
  }).catch((err) => {
    ioLoading = null;
    throw err;
  });
  return ioLoading;
}

async function connectSocket() {
  setConn('connecting');
  let io;
  try {
    io = await loadSocketIo();
  } catch {
    setConn('offline');
    setTimeout(() => state.token && !state.socket && connectSocket(), 5000);
    return;
  }
  if (!state.token) return;
  const socket = io(state.config.notifierUrl, {
    auth: { token: state.token },
    transports: ['websocket'],
    reconnectionDelayMax: 10000,
  });
  state.socket = socket;
  socket.on('connect', () => {
    state.failures = 0;
    setConn('live');
    if (state.wasConnected) catchUp();
    state.wasConnected = true;
  });
  socket.on('disconnect', () => setConn(navigator.onLine ? 'reconnecting' : 'offline'));
  socket.on('connect_error', () => {
    state.failures += 1;
    setConn(state.failures >= 3 || !navigator.onLine ? 'offline' : 'reconnecting');
  });
  socket.on('notification', addNote);
  socket.on('notification:read', ({ ids }) => markReadLocally(ids === 'all' ? 'all' : ids.map(String)));
  socket.on('media:status', (e) => {
    const m = state.media.get(e.mediaId);
    if (!m) return;
    Object.assign(m, { status: e.status, progress: e.progress });
    renderCard(m);
    if (e.status === 'complete' || e.status === 'failed') refreshMedia(e.mediaId).catch(() => {});
  });
}

/** After a reconnect: what happened while the page was away (notifications, finished files, new uploads). */
function catchUp() {
  loadNotes().catch(() => {});
  refreshFirstPage();
  for (const m of state.media.values())
    if (m.status !== 'complete' && m.status !== 'failed') refreshMedia(m.id).catch(() => {});
}

// Back to a tab that was in the background: catch up on what other tabs and devices did meanwhile.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && state.token && state.wasConnected) catchUp();
});
addEventListener('offline', () => state.socket && setConn('offline'));
addEventListener('online', () => state.socket?.connect());

// ── events ───────────────────────────────────────────────────────────────────────────────────────────────
document.addEventListener('click', (e) => {
  const t = e.target instanceof Element ? e.target.closest('button, a') : null;
  if (!t) {
    if (!$('#panel').hidden && !e.target.closest?.('#panel')) togglePanel(false);
    return;
  }
  const d = t.dataset;
  if (d.open) openDetail(d.open);
  else if (d.delete) confirmDelete(d.delete);
  else if (d.download) download(d.media, d.download);
  else if (d.note) openNote(d.note);
  else if (d.close !== undefined) closeDetail();
  if (!$('#panel').hidden && !t.closest('#panel') && t.id !== 'bell') togglePanel(false);
});
$('#bell').addEventListener('click', () => togglePanel());
$('#panel-close').addEventListener('click', () => togglePanel(false));
$('#read-all').addEventListener('click', readAll);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !$('#panel').hidden) togglePanel(false);
});
$('#detail').addEventListener('close', () => state.openId && closeDetail());
$('#detail').addEventListener('click', (e) => {
  if (e.target === $('#detail')) closeDetail();
});
$('#signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  signIn($('#token').value.trim());
});
$('#signout').addEventListener('click', () => signOut());
$('#more').addEventListener('click', () => loadMedia(state.cursor));
$('#file').addEventListener('change', (e) => {
  enqueueFiles([...e.target.files]);
  e.target.value = '';
});

// Drag and drop: anywhere on the page, the drop zone lights up.
let dragDepth = 0;
addEventListener('dragenter', (e) => {
  if (!e.dataTransfer?.types?.includes('Files') || $('#app').hidden) return;
  dragDepth += 1;
  $('#drop').classList.add('over');
});
addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) $('#drop').classList.remove('over');
});
addEventListener('dragover', (e) => {
  if (e.dataTransfer?.types?.includes('Files')) e.preventDefault();
});
addEventListener('drop', (e) => {
  if (!e.dataTransfer?.files?.length) return;
  e.preventDefault();
  dragDepth = 0;
  $('#drop').classList.remove('over');
  if (!$('#app').hidden) enqueueFiles([...e.dataTransfer.files]);
});

// ── start ────────────────────────────────────────────────────────────────────────────────────────────────
try {
  state.config = await (await fetch('/config.json')).json();
} catch {
  state.config = { gatewayUrl: '', notifierUrl: '' };
}
if (state.token) await signIn(state.token);
else $('#signin').hidden = false;
