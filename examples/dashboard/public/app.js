// The dashboard's client: plain EventSource, no library. One stream for the page, one per job run.
const $ = (id) => document.getElementById(id);
const clockTime = (ms) => new Date(ms).toLocaleTimeString();

/** Shows a connection state on badges (CSS colours them by `data-state`). */
function showState(badges, state) {
  for (const badge of badges) badge.textContent = badge.dataset.state = state;
}

/** Opens an EventSource, mirrors its state on badges and passes each named event's parsed data to its handler. */
function stream(url, badges, handlers) {
  const source = new EventSource(url);
  const show = (state) => showState(badges, state);
  show('connecting');
  source.addEventListener('open', () => show('open'));
  source.addEventListener('error', () => show(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'));
  for (const [name, handle] of Object.entries(handlers)) {
    source.addEventListener(name, (e) => handle(JSON.parse(e.data), e));
  }
  return source;
}

// Long job: each run is one stream; `done` arrives just before the server completes it. The page closes its
// EventSource then, or the browser would reconnect and start another job.
$('job-start').addEventListener('click', () => {
  $('job-start').disabled = true;
  $('job-status').textContent = 'running';
  let events = 0;
  const showPercent = (percent) => {
    $('job-fill').style.width = `${percent}%`;
    $('job-bar').setAttribute('aria-valuenow', String(percent));
  };
  showPercent(0);
  const job = stream('/job', [$('job-state')], {
    progress: ({ percent }) => {
      events++;
      showPercent(percent);
      $('job-status').textContent = `${percent}%`;
    },
    done: () => {
      job.close();
      showState([$('job-state')], 'ended');
      $('job-status').textContent = `done: ${events} progress events, stream completed`;
      $('job-start').disabled = false;
    },
  });
});

// Generation: POST /runs starts a run (its id comes back in the Tidings-Run header), then the page follows it with
// an EventSource on GET /runs/:id, from the start. The run id is kept in the URL (?run=<id>), so a reload, or the
// same link in another tab, opens the same run: the answer is rendered from the start, each token once. After the
// `end` frame the browser's reconnection is answered 204 and the EventSource closes by itself.
function followRun(id) {
  $('gen-answer').textContent = '';
  $('gen-stop').disabled = false;
  $('gen-link').href = `/?run=${encodeURIComponent(id)}`;
  $('gen-link').hidden = false;
  history.replaceState(null, '', `?run=${encodeURIComponent(id)}`);
  let tokens = 0;
  const source = new EventSource(`/runs/${encodeURIComponent(id)}`);
  showState([$('gen-state')], 'connecting');
  source.addEventListener('open', () => showState([$('gen-state')], 'running'));
  source.addEventListener('token', (e) => {
    $('gen-answer').textContent += e.data; // a string is sent as it is (the one rule)
    $('gen-status').textContent = `${++tokens} tokens`;
  });
  source.addEventListener('end', (e) => {
    const end = JSON.parse(e.data);
    showState([$('gen-state')], end.state);
    $('gen-status').textContent = `${tokens} tokens, ${end.state}${end.reason ? `: ${end.reason}` : ''}`;
    $('gen-stop').disabled = true;
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) $('gen-status').textContent += ' (stream closed: nothing more)';
  });
  $('gen-stop').onclick = () => fetch(`/runs/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

$('gen-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const started = new AbortController();
  const res = await fetch('/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: $('gen-prompt').value }),
    signal: started.signal,
  });
  const id = res.headers.get('tidings-run');
  started.abort(); // the POST streams the run too; the page follows it by id instead (the run goes on regardless)
  if (id !== null) followRun(id);
});

const runInUrl = new URLSearchParams(location.search).get('run');
if (runInUrl !== null) followRun(runInUrl);

// One stream a tab carries the clock, the stats and the chat: browsers allow six HTTP/1.1 connections per
// host across all tabs. A tab keeps its chat transcript and last event id in sessionStorage, so a reload
// resumes where it left off. A new tab first asks the same route for JSON (short polling) to get the history.
const tab = sessionStorage.getItem('tab') ?? `tab-${Math.random().toString(36).slice(2, 6)}`;
sessionStorage.setItem('tab', tab);
const saved = JSON.parse(sessionStorage.getItem('chat') ?? 'null');
const transcript = saved?.messages ?? [];
let lastId = saved?.lastId;
let ticks = 0;
function showMessage({ id, text, from, at, tag }) {
  const item = document.createElement('li');
  item.dataset.id = id;
  item.dataset.tag = tag;
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `${clockTime(at)} ${from === tab ? 'you' : from}`;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  const label = document.createElement('span');
  label.className = 'tag';
  label.dataset.tag = tag;
  label.textContent = tag;
  item.append(meta, body, label);
  $('chat-list').append(item);
  item.scrollIntoView({ block: 'nearest' });
}

function showDivider(text) {
  const item = document.createElement('li');
  item.className = 'divider';
  item.textContent = text;
  $('chat-list').append(item);
}

function remember(message) {
  transcript.push(message);
  transcript.splice(0, transcript.length - 50);
  lastId = message.id;
  sessionStorage.setItem('chat', JSON.stringify({ lastId, messages: transcript }));
  $('last-id').textContent = lastId;
}

function logConnection(text) {
  const item = document.createElement('li');
  item.textContent = `${clockTime(Date.now())} ${text}`;
  $('conn-log').prepend(item);
  while ($('conn-log').children.length > 6) $('conn-log').lastElementChild.remove();
}

async function connect() {
  if (saved) {
    for (const message of transcript) showMessage(message);
    showDivider(`reloaded: resuming after ${lastId ?? 'the start'}`);
  } else {
    const res = await fetch('/events', { headers: { accept: 'application/json' } });
    const { events, lastEventId } = await res.json();
    for (const e of events) {
      if (e.event !== 'chat') continue;
      const message = { id: e.id, ...JSON.parse(e.data), tag: 'history' };
      showMessage(message);
      remember(message);
    }
    lastId = lastEventId ?? undefined;
  }
  $('last-id').textContent = lastId ?? 'none';

  const query = new URLSearchParams({ tab });
  if (lastId !== undefined) query.set('lastEventId', lastId);
  // `hello` opens every connection with the server's clock: older chat messages were missed, so they are replays.
  let joinedAt = Number.POSITIVE_INFINITY;
  let opens = 0;
  const badges = ['clock-state', 'chat-state', 'stats-state', 'conn-state'].map($);
  const events = stream(`/events?${query}`, badges, {
    hello: ({ since, resumesAfter, node }) => {
      joinedAt = since;
      if (++opens > 1) showDivider(`reconnected: the server resumes after ${resumesAfter ?? 'nothing'}`);
      logConnection(`hello: the server resumes after ${resumesAfter ?? 'nothing'}`);
      $('node').textContent = `${node.flavour} · ${node.adapter} registry · pid ${node.pid}`;
    },
    tick: ({ now }) => {
      $('clock').textContent = clockTime(now);
      $('clock-ticks').textContent = String(++ticks);
    },
    chat: (data, e) => {
      const message = { id: e.lastEventId, ...data, tag: data.at < joinedAt ? 'replayed' : 'live' };
      showMessage(message);
      remember(message);
    },
    bye: ({ reason }) => logConnection(`bye: ${reason}`),
    stats: (stats) => {
      for (const key of ['connections', 'channels', 'eventsSent', 'slowClosed']) {
        $(`stat-${key}`).textContent = stats[key].toLocaleString();
      }
      $('stat-bytesSent').textContent = `${(stats.bytesSent / 1024).toFixed(1)} KiB`;
    },
  });
  events.addEventListener('open', () => logConnection('open'));
  events.addEventListener('error', () => logConnection(`error: ${badges[0].dataset.state}`));
}

$('chat-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = $('chat-input');
  const res = await fetch('/chat', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: input.value, from: tab }),
  });
  if (res.ok) input.value = '';
});

$('drop').addEventListener('click', async () => {
  logConnection('asked the server to drop it');
  await fetch('/drop', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tab }),
  });
});

connect();
