// A tiny static file server on 127.0.0.1 for headless-browser tools and tests: URL prefixes map
// to directories, plus optional handlers for generated content. Nothing else is reachable.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const MEDIA_TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
  '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.task': 'application/octet-stream',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.webp': 'image/webp', '.css': 'text/css', '.mp4': 'video/mp4',
  '.webm': 'video/webm', '.svg': 'image/svg+xml', '.map': 'application/json',
};

/**
 * @param {{ mounts: Record<string, string>, handlers?: Record<string, (req, res, rest: string) => void>, port?: number }} options
 * @returns {Promise<{ url: string, close: () => Promise<void>, requests: string[] }>}
 */
export function startStaticServer({ mounts, handlers = {}, port = 0 }) {
  const requests = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    requests.push(path);
    // Cross-origin isolation lets onnxruntime-web use threads (SharedArrayBuffer).
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    for (const [prefix, handler] of Object.entries(handlers)) {
      if (path.startsWith(prefix)) return handler(req, res, path.slice(prefix.length));
    }
    const prefix = Object.keys(mounts).sort((a, b) => b.length - a.length).find((p) => path.startsWith(p));
    if (prefix === undefined) return notFound(res);
    const base = mounts[prefix];
    let file = normalize(join(base, path.slice(prefix.length)));
    if (file !== base && !file.startsWith(base.endsWith(sep) ? base : base + sep)) return notFound(res);
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const size = statSync(file).size;
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': size });
      createReadStream(file).pipe(res);
    } catch {
      notFound(res);
    }
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://127.0.0.1:${actual}`,
        requests,
        close: () => new Promise((done) => { server.closeAllConnections?.(); server.close(() => done()); }),
      });
    });
  });
}

function notFound(res) {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
}
