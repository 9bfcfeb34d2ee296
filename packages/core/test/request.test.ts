/**
 * What core reads from a request: the client's last event id (header, else the `?lastEventId=` query) and
 * whether it wants JSON. Client input is untrusted: too long or with control characters, it is ignored.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { MAX_LAST_EVENT_ID_BYTES, readLastEventId, type SseRequest, wantsJson } from '@tidings/core';

function request(headers: IncomingHttpHeaders, url = '/events'): SseRequest {
  return { headers, url } as SseRequest;
}

describe('readLastEventId', () => {
  test.each([
    ['no id at all', request({}), { lastEventId: undefined }],
    ['the header', request({ 'last-event-id': '42' }), { lastEventId: '42' }],
    ['a non-numeric header, as sent', request({ 'last-event-id': 'b7e1-x' }), { lastEventId: 'b7e1-x' }],
    ['an empty header', request({ 'last-event-id': '' }), { lastEventId: '' }],
    ['the query, URL-decoded', request({}, '/e?x=1&lastEventId=a%20b%2Fc'), { lastEventId: 'a b/c' }],
    ['the header before the query', request({ 'last-event-id': 'h' }, '/e?lastEventId=q'), { lastEventId: 'h' }],
    [
      'an id of exactly the limit',
      request({ 'last-event-id': 'x'.repeat(MAX_LAST_EVENT_ID_BYTES) }),
      { lastEventId: 'x'.repeat(MAX_LAST_EVENT_ID_BYTES) },
    ],
    [
      'an id past the limit',
      request({ 'last-event-id': 'x'.repeat(MAX_LAST_EVENT_ID_BYTES + 1) }),
      { lastEventId: undefined, rejected: 'too-long' },
    ],
    [
      'an id past the limit in UTF-8 bytes',
      request({}, `/e?lastEventId=${encodeURIComponent('é'.repeat(MAX_LAST_EVENT_ID_BYTES / 2 + 1))}`),
      { lastEventId: undefined, rejected: 'too-long' },
    ],
    [
      'a query id with a newline',
      request({}, '/e?lastEventId=1%0Aevent%3A%20x'),
      { lastEventId: undefined, rejected: 'control-characters' },
    ],
    [
      'a query id with NUL',
      request({}, '/e?lastEventId=1%00'),
      { lastEventId: undefined, rejected: 'control-characters' },
    ],
  ])('%s', (_name, req, reading) => {
    expect(readLastEventId(req)).toEqual(reading);
  });
});

describe('wantsJson', () => {
  test.each([
    [undefined, false],
    ['text/event-stream', false],
    ['application/json', true],
    ['Application/JSON; q=0.9', true],
    ['application/json, text/event-stream', false],
    ['*/*', false],
    ['application/json, */*', false],
    ['application/json, text/*', false],
    ['application/json, text/event-stream;q=0', true],
    ['text/event-stream;q=0.0, application/json', true],
  ])('Accept: %s -> %s', (accept, expected) => {
    expect(wantsJson(request(accept === undefined ? {} : { accept }))).toBe(expected);
  });
});
