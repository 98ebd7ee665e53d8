// The web page: the public API only. Token in localStorage; live status and notifications over socket.io.
const $ = (sel) => document.querySelector(sel);
const state = { token: localStorage.getItem('token'), config: null, socket: null, media: new Map(), cursor: null };

async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { ...(init.headers || {}), authorization: `Bearer ${state.token}` },
  });
  if (res.status === 401) {
    signOut('Your token was refused.');
    throw new Error('unauthenticated');
  }
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
  return body;
}

function signOut(message = '') {
  localStorage.removeItem('token');
  state.token = null;
  state.socket?.disconnect();
  $('#app').hidden = true;
  $('#signout').hidden = true;
  $('#signin').hidden = false;
  $('#signin-error').textContent = message;
  $('#who').textContent = '';
}

async function signIn(token) {
  state.token = token;
  try {
    await api('/v1/media?limit=1');
  } catch {
    return;
  }
  localStorage.setItem('token', token);
  $('#signin').hidden = true;
  $('#app').hidden = false;
  $('#signout').hidden = false;
  $('#who').textContent = 'Signed in';
  state.media.clear();
  $('#media tbody').replaceChildren();
  $('#notifications').replaceChildren();
  await loadMedia();
  connectSocket();
}

async function loadMedia(cursor) {
  const page = await api(`/v1/media?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  for (const m of page.items) await refreshMedia(m.id, m);
  state.cursor = page.nextCursor;
  $('#more').hidden = !page.nextCursor;
}

async function refreshMedia(id, summary) {
  const m = summary?.outputs ? summary : await api(`/v1/media/${id}`);
  state.media.set(id, m);
  renderRow(m);
}

function renderRow(m) {
  let row = document.getElementById(`media-${m.id}`);
  if (!row) {
    row = document.createElement('tr');
    row.id = `media-${m.id}`;
    row.dataset.mediaId = m.id;
    const tbody = $('#media tbody');
    // Newest first: new uploads go on top; listed pages append in order.
    if (m.fresh) tbody.prepend(row);
    else tbody.append(row);
  }
  const status = m.status === 'processing' && m.progress != null ? `processing ${m.progress}%` : m.status;
  const outputs = (m.outputs || [])
    .filter((o) => o.status === 'complete')
    .map((o) => `<a href="#" data-download="${o.id}" data-media="${m.id}">${escapeHtml(o.format)}</a>`)
    .join('');
  row.innerHTML = `<td>${escapeHtml(m.name)}</td><td>${m.kind}</td>
    <td class="status status-${m.status}" title="${escapeHtml(m.statusDetail || '')}">${escapeHtml(status)}</td>
    <td class="outputs">${outputs}</td><td><button data-delete="${m.id}">Delete</button></td>`;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function upload(file) {
  const form = new FormData();
  form.append('file', file, file.name);
  const xhr = new XMLHttpRequest();
  const bar = $('#upload-progress');
  bar.hidden = false;
  bar.value = 0;
  $('#upload-status').textContent = `Uploading ${file.name}…`;
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
  };
  xhr.onload = async () => {
    bar.hidden = true;
    const body = JSON.parse(xhr.responseText || 'null');
    if (xhr.status !== 201) {
      $('#upload-status').textContent = `Upload failed: ${body?.error?.message || xhr.status}`;
      return;
    }
    $('#upload-status').textContent = `Uploaded ${body.name}.`;
    await refreshMedia(body.id, { ...body, fresh: true });
  };
  xhr.onerror = () => {
    bar.hidden = true;
    $('#upload-status').textContent = 'Upload failed: the connection was lost.';
  };
  xhr.open('POST', '/v1/media');
  xhr.setRequestHeader('authorization', `Bearer ${state.token}`);
  xhr.send(form);
}

function showNotification(n) {
  if (n.readAt || document.getElementById(`notification-${n.id}`)) return;
  const el = document.createElement('div');
  el.id = `notification-${n.id}`;
  el.className = `notification kind-${n.kind.replace(/\./g, '-')}`;
  el.innerHTML = `<span>${escapeHtml(n.text)}</span><button data-dismiss="${n.id}" aria-label="Dismiss">Dismiss</button>`;
  $('#notifications').prepend(el);
  if (n.mediaId) refreshMedia(n.mediaId).catch(() => {});
}

function connectSocket() {
  const url = state.config.notifierUrl || undefined;
  const socket = io(url, { auth: { token: state.token }, transports: ['websocket'] });
  state.socket = socket;
  socket.on('notification', showNotification);
  socket.on('notification:read', ({ ids }) => {
    if (ids === 'all') $('#notifications').replaceChildren();
    else for (const id of ids) document.getElementById(`notification-${id}`)?.remove();
  });
  socket.on('media:status', (e) => {
    const m = state.media.get(e.mediaId);
    if (!m) return;
    Object.assign(m, { status: e.status, progress: e.progress });
    renderRow(m);
  });
}

async function loadConfig() {
  state.config = await (await fetch('/config.json')).json();
  await new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = `${state.config.notifierUrl || ''}/socket.io/socket.io.min.js`;
    s.onload = resolve;
    s.onerror = () => reject(new Error('The notifier could not be reached.'));
    document.head.append(s);
  });
}

document.addEventListener('click', async (e) => {
  const t = e.target;
  if (!(t instanceof HTMLElement)) return;
  if (t.dataset.dismiss) {
    state.socket.emit('notification:read', { id: t.dataset.dismiss });
    document.getElementById(`notification-${t.dataset.dismiss}`)?.remove();
  } else if (t.dataset.download) {
    e.preventDefault();
    const { url } = await api(`/v1/media/${t.dataset.media}/outputs/${t.dataset.download}/download?redirect=false`);
    const a = document.createElement('a');
    a.href = url;
    a.download = '';
    document.body.append(a);
    a.click();
    a.remove();
  } else if (t.dataset.delete) {
    await api(`/v1/media/${t.dataset.delete}`, { method: 'DELETE' });
    state.media.delete(t.dataset.delete);
    document.getElementById(`media-${t.dataset.delete}`)?.remove();
  }
});

$('#signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  signIn($('#token').value.trim());
});
$('#signout').addEventListener('click', () => signOut());
$('#upload-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const file = $('#file').files[0];
  if (file) upload(file);
});
$('#more').addEventListener('click', () => loadMedia(state.cursor));

await loadConfig().catch((err) => {
  $('#signin-error').textContent = err.message;
});
if (state.token) await signIn(state.token);
