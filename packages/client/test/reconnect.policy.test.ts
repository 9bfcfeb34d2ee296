/**
 * The reconnect policy on its own (no sockets): the rules the socket tests reach only slowly or not at all.
 */
import { SseClientError } from '@tidings/client';
import { ReconnectPolicy } from '../src/reconnect';

const lived = { status: 200, opened: true, received: true };
const failed = { status: 503 };

test('a server retry: above max is honoured after a good response, and backoff never drops below it', () => {
  const policy = new ReconnectPolicy({ max: 1000, jitter: false }, false);
  policy.serverRetry = 5000;
  expect(policy.next(lived, true)).toBe(5000);
  expect(policy.next(failed, true)).toBe(5000);
  expect(policy.next(failed, true)).toBe(5000);
});

test('with retry: 0 (long-poll) a good response comes back at once, failures back off from initial', () => {
  const policy = new ReconnectPolicy({ initial: 100, factor: 3, jitter: false }, false);
  policy.serverRetry = 0;
  expect(policy.next(lived, true)).toBe(0);
  expect(policy.next(failed, true)).toBe(100);
  expect(policy.next(failed, true)).toBe(300);
  expect(policy.next(lived, true)).toBe(0);
});

test('a response that opened but said nothing and ended at once is a failure; one that stayed open initial ms is not', () => {
  const policy = new ReconnectPolicy({ initial: 100, jitter: false }, false);
  expect(policy.next({ status: 200, opened: true, openFor: 3 }, true)).toBe(100);
  expect(policy.failures).toBe(1);
  expect(policy.next({ status: 200, opened: true, openFor: 100 }, true)).toBe(100);
  expect(policy.failures).toBe(0);
});

test('the 401 retry comes back after a good response', () => {
  const policy = new ReconnectPolicy({ jitter: false }, true);
  expect(policy.next({ status: 401 }, true)).toBe(0);
  expect(policy.next({ status: 401 }, true)).toEqual({ stop: undefined });
  const again = new ReconnectPolicy({ jitter: false }, true);
  expect(again.next({ status: 401 }, true)).toBe(0);
  again.next(lived, true);
  expect(again.next({ status: 401 }, true)).toBe(0);
});

test('retry: false stops after anything, keeping the error', () => {
  const policy = new ReconnectPolicy(false, true);
  const error = new SseClientError('SSE_CLIENT_ERR_HTTP', 'refused', 401);
  expect(policy.next(lived, true)).toEqual({ stop: undefined });
  expect(policy.next({ status: 401, error }, true)).toEqual({ stop: error });
});
