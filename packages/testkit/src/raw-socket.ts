/** Clients below HTTP: a GET that never reads (a frozen client), and a request sent as raw bytes. */
import * as net from 'node:net';

/**
 * Sends `GET <path>` on a raw TCP socket and then never reads: the server's writes pile up in the kernel's
 * socket buffers and then in Node's, as with a frozen client. `resume()` starts reading; destroy it when done.
 */
export function connectNeverReading(url: string): Promise<net.Socket> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.pause();
      socket.write(`GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** A whole HTTP/1.1 response read off a raw socket. */
export interface RawResponse {
  readonly status: number;
  readonly text: string;
}

/** Sends `request` (bytes, as given) on a new socket and reads until the server closes it. */
export function rawRequest(url: string, request: Buffer | string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: hostname, port: Number(port) }, () => socket.end(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may answer and close before it read everything (431): a reset after the answer is expected.
    socket.on('error', () => {});
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });
}
