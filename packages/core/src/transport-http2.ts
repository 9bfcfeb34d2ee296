/** HTTP/2 through Node's compatibility API (`Http2ServerResponse`). */
import type { Http2ServerResponse } from 'node:http2';
import type { Transport } from './transport.js';
import { ResponseTransport } from './transport-response.js';

export class Http2Transport extends ResponseTransport<Http2ServerResponse> {
  /** The compat `writeHead()` sends the HEADERS frame itself: no flush, and no connection-specific header. */
  openStream(): Transport {
    this.writeStreamHead();
    return this;
  }
}
