/** A tiny HTTP server on 127.0.0.1 serving a style pack, counting requests per path. */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  readonly body: Uint8Array;
  /** Send the full Content-Length but close the connection after this many bytes. */
  readonly cutAfter?: number;
}

export interface PackServer {
  /** Base URL of the pack directory, with trailing slash. */
  readonly url: string;
  /** Routes by path below the pack directory; tests may change them between loads. */
  readonly routes: Map<string, Route>;
  requestCount(path: string): number;
  close(): Promise<void>;
}

export async function startPackServer(files: Map<string, Uint8Array>): Promise<PackServer> {
  const routes = new Map<string, Route>([...files].map(([path, body]) => [path, { body }]));
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/pack\//, '');
    requests.push(path);
    const route = routes.get(path);
    if (!route) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-length': route.body.byteLength });
    if (route.cutAfter === undefined) {
      response.end(route.body);
      return;
    }
    response.write(route.body.subarray(0, route.cutAfter), () => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/pack/`,
    routes,
    requestCount: (path) => requests.filter((p) => p === path).length,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
