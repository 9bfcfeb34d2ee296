// The browser tests' page: opens @tidings/client streams on request and keeps what each one saw, for the test to
// read through `window.streamRecord(key)`. The client comes from /client.js (the test bundles it for the browser).
import { connect } from '/client.js';

const streams = new Map();

/**
 * Follows `url` as stream `key`: `news` events, the connection's life and its errors are recorded. With `token`,
 * `headers` is a function asked before every attempt that sends it as a bearer token; without it, no header.
 */
window.followStream = (key, url, { token, ...options } = {}) => {
  const record = { events: [], opens: 0, reconnects: 0, errors: [], closed: false };
  const headers = token === undefined ? {} : () => ({ Authorization: `Bearer ${token}` });
  const stream = connect(url, { ...options, headers });
  stream.on('news', (data, ev) => record.events.push({ data, id: ev.id }));
  stream.onOpen(() => record.opens++);
  stream.onReconnect(() => record.reconnects++);
  stream.onError((err) => record.errors.push({ code: err?.code, status: err?.status }));
  stream.onClose(() => {
    record.closed = true;
  });
  streams.set(key, { stream, record });
};

/** What stream `key` saw so far, plus its state and last event id. */
window.streamRecord = (key) => {
  const { stream, record } = streams.get(key);
  return { ...record, readyState: stream.readyState, lastEventId: stream.lastEventId };
};

/** Closes every stream this page opened (between tests). */
window.closeStreams = () => {
  for (const { stream } of streams.values()) stream.close();
  streams.clear();
};

window.pageReady = true;
