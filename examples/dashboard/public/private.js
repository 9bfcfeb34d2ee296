// The private feed: the chat channel behind a bearer token, followed with @tidings/client (EventSource cannot send
// an Authorization header). The server's `authorize` option admits a token from POST /login and answers 401 otherwise.
import { connect } from '@tidings/client';

const $ = (id) => document.getElementById(id);
let stream;

function showState(state) {
  $('feed-state').textContent = $('feed-state').dataset.state = state;
}

function log(text) {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('feed-log').prepend(item);
}

function showMessage({ text, from }, id) {
  const item = document.createElement('li');
  item.dataset.id = id;
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = from;
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  item.append(meta, body);
  $('feed-list').append(item);
  $('last-id').textContent = id;
}

/** Follows the chat channel with `token`; a new call replaces the previous stream. */
function follow(token) {
  stream?.close();
  $('feed-list').replaceChildren();
  $('last-id').textContent = 'none';
  showState('connecting');
  // A function, so a token refreshed meanwhile would be sent on the next attempt (and once more after a 401).
  stream = connect('/channels/chat', { headers: () => ({ Authorization: `Bearer ${token}` }) });
  stream.onOpen(() => {
    showState('open');
    log('open: the server accepted the token');
  });
  stream.onReconnect(({ delay }) => {
    showState('reconnecting');
    log(`reconnecting in ${delay} ms with Last-Event-ID ${stream.lastEventId || 'none'}`);
  });
  stream.onError((err) => log(`${err.code}${err.status ? ` (HTTP ${err.status})` : ''}: ${err.message}`));
  stream.onClose(() => showState('closed'));
  stream.on('chat', (message, ev) => showMessage(message, ev.id));
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = await fetch('/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: $('login-name').value }),
  });
  const { token, name, error } = await res.json();
  if (!res.ok) {
    log(`sign-in refused: ${error}`);
    return;
  }
  $('user').textContent = name;
  follow(token);
});

$('wrong-token').addEventListener('click', () => {
  $('user').textContent = 'nobody (wrong token)';
  follow('not-a-token');
});
