/** Test servers: a node:http server listening on 127.0.0.1 with an ephemeral port, closed with all its sockets. */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A listening test server. */
export interface TestServer {
  readonly server: http.Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Closes the server and every connection it still holds. */
  close(): Promise<void>;
}

/**
 * Starts `handler` on 127.0.0.1, port 0. `handler` is a request listener (an Express app is one) or a server
 * already made (by a framework, or with special options).
 */
export async function startServer(handler: http.RequestListener | http.Server): Promise<TestServer> {
  const server = handler instanceof http.Server ? handler : http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
