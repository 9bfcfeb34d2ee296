/**
 * A TCP proxy in front of Redis that can freeze the connections that subscribed: they stay open but nothing
 * passes either way any more, like a connection whose peer vanished without a FIN or RST. New connections pass.
 * It can also mute Redis's replies (commands run, their answers are lost) and cut Redis off: every connection
 * dropped and new ones refused until restored.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export class FreezingProxy {
  readonly #server: Server;
  readonly #pairs = new Set<{
    client: Socket;
    upstream: Socket;
    subscribed: boolean;
    frozen: boolean;
    muted: boolean;
  }>();
  #cut = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts a proxy on 127.0.0.1 (a free port) to `port`. */
  static async start(port: number): Promise<FreezingProxy> {
    const server = createServer();
    const proxy = new FreezingProxy(server);
    server.on('connection', (client) => {
      if (proxy.#cut) client.destroy();
      else proxy.#pipe(client, port);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get url(): string {
    const address = this.#server.address();
    return `redis://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }

  /** Freezes every open connection that has sent a SUBSCRIBE; returns how many. */
  freezeSubscribers(): number {
    let frozen = 0;
    for (const pair of this.#pairs) {
      if (pair.subscribed && !pair.frozen) {
        pair.frozen = true;
        frozen++;
      }
    }
    return frozen;
  }

  /** Drops Redis's replies on every open connection from now on (commands still reach Redis and run). */
  muteReplies(): void {
    for (const pair of this.#pairs) pair.muted = true;
  }

  /** Drops every connection and refuses new ones until {@link restore}: nothing sent meanwhile reaches Redis. */
  cut(): void {
    this.#cut = true;
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
  }

  /** Lets connections through again. */
  restore(): void {
    this.#cut = false;
  }

  /** Closes every connection and the proxy. */
  async close(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #pipe(client: Socket, port: number): void {
    const upstream = tcpConnect(port, '127.0.0.1');
    const pair = { client, upstream, subscribed: false, frozen: false, muted: false };
    this.#pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (pair.frozen) return;
      if (chunk.includes('SUBSCRIBE') || chunk.includes('subscribe')) pair.subscribed = true;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.frozen && !pair.muted) client.write(chunk);
    });
    // A frozen connection ignores its peer's end too: only a destroy (a timeout on the other side) ends it.
    const end = (): void => {
      if (pair.frozen) return;
      client.destroy();
      upstream.destroy();
      this.#pairs.delete(pair);
    };
    for (const socket of [client, upstream]) {
      socket.on('end', end);
      socket.on('error', end);
      socket.on('close', end);
    }
  }
}
