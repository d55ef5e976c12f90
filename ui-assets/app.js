// inferq dashboard: plain browser JavaScript (no framework, no build step), uPlot for the charts.
// Talks only to /ui/api/… with the session cookie; every state-changing call sends X-CSRF-Token.

const POLL_MS = 2000;
const SAMPLE_SECONDS = 3;
const TERMINAL = new Set(['Succeeded', 'Failed', 'Expired', 'Cancelled']);

const state = { csrf: '', capabilities: {}, charts: new Map(), endpoints: [], timer: 0 };

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers);
  if (options.method && options.method !== 'GET') headers['X-CSRF-Token'] = state.csrf;
  const res = await fetch(path, Object.assign({}, options, { headers, credentials: 'same-origin' }));
  const doc = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/ui/api/sign-in') showSignIn();
  if (!res.ok) throw new Error(doc.message || `${res.status} ${res.statusText}`);
  return doc;
}

function showSignIn(prefill) {
  clearInterval(state.timer);
  $('app-view').hidden = true;
  $('who').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in-view').hidden = false;
  if (prefill) {
    $('access-key-id').value = prefill.accessKeyId;
    $('secret-access-key').value = prefill.secretAccessKey;
  }
}

function showApp(session) {
  state.csrf = session.csrfToken;
  state.capabilities = session.capabilities || {};
  $('sign-in-view').hidden = true;
  $('app-view').hidden = false;
  $('who').textContent = `signed in as ${session.accessKeyId}`;
  $('who').hidden = false;
  $('sign-out').hidden = false;
  refresh();
  clearInterval(state.timer);
  state.timer = setInterval(refresh, POLL_MS);
}

const fmtAge = (s) => (s === undefined || s === null ? '–' : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

function stat(label, value) {
  return el('div', {}, el('span', {}, label), el('b', {}, value));
}

function chartFor(name, host) {
  let chart = state.charts.get(name);
  if (chart && chart.root.isConnected) return chart;
  if (typeof window.uPlot !== 'function') return undefined;
  const opts = {
    width: Math.max(300, host.clientWidth || 400), height: 160,
    scales: { x: { time: true }, rate: { auto: true } },
    series: [
      {},
      { label: 'Backlog', stroke: '#c26a00', width: 2, fill: 'rgba(194,106,0,.08)' },
      { label: 'Done/min', stroke: '#1a7f37', width: 2, scale: 'rate' },
      { label: 'Failed/min', stroke: '#c62828', width: 2, scale: 'rate' },
    ],
    axes: [{}, { label: 'backlog' }, { side: 1, scale: 'rate', label: 'per min', grid: { show: false } }],
  };
  chart = new window.uPlot(opts, [[], [], [], []], host);
  state.charts.set(name, chart);
  return chart;
}

function renderEndpoints(overview) {
  const box = $('endpoints');
  const seen = new Set();
  for (const e of overview.endpoints) {
    seen.add(e.EndpointName);
    let card = box.querySelector(`[data-endpoint="${CSS.escape(e.EndpointName)}"]`);
    if (!card) {
      card = el('article', { class: 'card', 'data-endpoint': e.EndpointName, 'aria-label': `Endpoint ${e.EndpointName}` },
        el('h3', {}, e.EndpointName, el('span', { class: 'badge' })), el('div', { class: 'stats' }), el('div', { class: 'chart' }));
      box.append(card);
    }
    const health = e.EndpointStatus === 'InService' ? (e.Health?.status ?? e.Health ?? 'InService') : 'OutOfService';
    const label = typeof health === 'string' ? health : 'InService';
    const badge = card.querySelector('.badge');
    badge.textContent = label;
    badge.className = `badge ${label.charAt(0).toUpperCase()}${label.slice(1)}`;
    const stats = card.querySelector('.stats');
    if (e.EndpointStatus !== 'InService') {
      stats.replaceChildren(stat('Off because', e.FailureReason ?? ''));
      continue;
    }
    const i = e.Instances;
    const b = e.Backlog;
    stats.replaceChildren(
      stat('Instances (min–max)', `${i.Current} (${i.Min}–${i.Max})`),
      stat('Backlog queued / running', `${b.Queued} / ${b.Running}`),
      stat('Oldest queued', fmtAge(b.OldestQueuedAgeSeconds)),
      stat('Healthy / starting', `${i.Healthy} / ${i.Starting}`),
      stat('Completions / min', e.PerMinute.completed),
      stat('Failures / min', e.PerMinute.failed),
    );
    const series = overview.series[e.EndpointName];
    const chart = chartFor(e.EndpointName, card.querySelector('.chart'));
    if (chart && series) {
      const perMin = (a) => a.map((n) => n * (60 / SAMPLE_SECONDS));
      chart.setData([series.t, series.backlog, perMin(series.completed), perMin(series.failed)]);
    }
  }
  for (const card of [...box.children]) if (!seen.has(card.dataset.endpoint)) card.remove();
}

function fillSelect(select, names) {
  const current = select.value;
  if ([...select.options].map((o) => o.value).join() === names.join()) return;
  select.replaceChildren(...names.map((n) => el('option', { value: n }, n)));
  if (names.includes(current)) select.value = current;
}

const seconds = (from, to) => (from && to ? `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(2)} s` : '–');

async function act(endpoint, id, action) {
  try {
    await api(`/ui/api/requests/${encodeURIComponent(endpoint)}/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
  } catch (err) {
    $('requests-note').textContent = `${action} failed: ${err.message}`;
  }
  refreshRequests();
}

function requestRow(endpoint, r) {
  const objects = el('td', {});
  if (r.OutputUrl && r.Status === 'Succeeded') objects.append(el('a', { href: r.OutputUrl, download: '' }, 'output'), ' ');
  if (r.FailureUrl && r.Status !== 'Succeeded' && TERMINAL.has(r.Status)) objects.append(el('a', { href: r.FailureUrl, download: '' }, 'failure'));
  const actions = el('td', {});
  if (state.capabilities.cancel && (r.Status === 'Queued' || r.Status === 'Running')) {
    actions.append(el('button', { type: 'button', class: 'small secondary', onclick: () => act(endpoint, r.InferenceId, 'cancel'), 'aria-label': `Cancel ${r.InferenceId}` }, 'Cancel'));
  }
  if (state.capabilities.retry && (r.Status === 'Failed' || r.Status === 'Expired' || r.Status === 'Cancelled')) {
    actions.append(el('button', { type: 'button', class: 'small', onclick: () => act(endpoint, r.InferenceId, 'retry'), 'aria-label': `Retry ${r.InferenceId}` }, 'Retry'));
  }
  return el('tr', { 'data-id': r.InferenceId },
    el('td', { class: 'id' }, r.InferenceId), el('td', {}, el('span', { class: `badge ${r.Status}` }, r.Status)), el('td', {}, r.Attempts),
    el('td', {}, r.ReceivedTime ? new Date(r.ReceivedTime).toLocaleTimeString() : '–'),
    el('td', {}, seconds(r.ReceivedTime, r.StartedTime)), el('td', {}, seconds(r.StartedTime, r.FinishedTime)),
    el('td', {}, r.FailureReason ?? ''), objects, actions);
}

async function refreshRequests() {
  const endpoint = $('requests-endpoint').value;
  if (!endpoint) return;
  const status = $('requests-status').value;
  const doc = await api(`/ui/api/requests?endpoint=${encodeURIComponent(endpoint)}&status=${encodeURIComponent(status)}`);
  $('requests-note').textContent = doc.listed ? '' : 'Showing the requests sent from this dashboard (this server has no request list).';
  $('requests').tBodies[0].replaceChildren(...doc.requests.map((r) => requestRow(endpoint, r)));
}

async function refresh() {
  try {
    const overview = await api('/ui/api/overview');
    renderEndpoints(overview);
    const names = overview.endpoints.filter((e) => e.EndpointStatus === 'InService').map((e) => e.EndpointName);
    fillSelect($('invoke-endpoint'), names);
    fillSelect($('requests-endpoint'), names);
    await refreshRequests();
  } catch (err) {
    $('requests-note').textContent = `Update failed: ${err.message}`;
  }
}

async function showResult(doc) {
  const box = $('invoke-result');
  const url = doc.Status === 'Succeeded' ? doc.OutputUrl : doc.FailureUrl;
  if (!url) {
    box.replaceChildren(el('p', {}, doc.FailureReason ?? doc.Status));
    return;
  }
  const res = await fetch(url);
  const type = res.headers.get('content-type') || '';
  const blob = await res.blob();
  const heading = el('p', {}, doc.Status === 'Succeeded' ? 'Output ' : 'Failure ', el('a', { href: url, download: '' }, 'download'));
  if (type.includes('json') || type.startsWith('text/') || blob.size < 64 * 1024) {
    const text = await blob.text();
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON: shown as text */ }
    box.replaceChildren(heading, el('pre', {}, shown));
  } else {
    box.replaceChildren(heading);
  }
}

async function invoke(event) {
  event.preventDefault();
  const endpoint = $('invoke-endpoint').value;
  const file = $('invoke-file').files[0];
  const body = file ?? $('invoke-payload').value;
  const contentType = $('invoke-content-type').value || (file ? file.type : '');
  const status = $('invoke-status');
  $('invoke-result').replaceChildren();
  const steps = [];
  const step = (s) => { if (steps[steps.length - 1] !== s) steps.push(s); status.textContent = steps.join(' → '); };
  try {
    const sent = await api(`/ui/api/invoke?endpoint=${encodeURIComponent(endpoint)}`, { method: 'POST', body, headers: contentType ? { 'Content-Type': contentType } : {} });
    status.dataset.inferenceId = sent.InferenceId;
    step('Queued'); // accepted: durably queued
    let doc;
    for (;;) {
      doc = await api(`/ui/api/requests/${encodeURIComponent(endpoint)}/${encodeURIComponent(sent.InferenceId)}`);
      step(doc.Status);
      if (TERMINAL.has(doc.Status)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await showResult(doc);
    refreshRequests();
  } catch (err) {
    step('error');
    $('invoke-result').replaceChildren(el('p', { class: 'error' }, err.message));
  }
}

async function signIn(event) {
  event.preventDefault();
  $('sign-in-error').textContent = '';
  try {
    await api('/ui/api/sign-in', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ accessKeyId: $('access-key-id').value, secretAccessKey: $('secret-access-key').value }),
    });
    showApp(await api('/ui/api/session'));
  } catch (err) {
    $('sign-in-error').textContent = err.message;
  }
}

async function signOut() {
  await api('/ui/api/sign-out', { method: 'POST' }).catch(() => undefined);
  const session = await api('/ui/api/session');
  showSignIn(session.prefill);
}

async function start() {
  $('sign-in-form').addEventListener('submit', signIn);
  $('invoke-form').addEventListener('submit', invoke);
  $('sign-out').addEventListener('click', signOut);
  $('requests-status').addEventListener('change', () => refreshRequests().catch(() => undefined));
  $('requests-endpoint').addEventListener('change', () => refreshRequests().catch(() => undefined));
  const session = await api('/ui/api/session');
  if (session.signedIn) showApp(session);
  else showSignIn(session.prefill);
}

start();
