#!/usr/bin/env node
// Serves the demo page and its asset base on 127.0.0.1 (PORT, default 8080):
//   /                 packages/demo/dist (built by `npm run build`)
//   /media/sample-face.webm  the demo's clip when there is no camera (project-made at set-up)
//   /assets/          the SDK asset base (README of packages/sdk) plus /assets/packs/ = models/packs
//   /api/pack-jobs    the pack builder: `face-stylizer pack build` one at a time, into models/packs
//                     (scripts/lib/pack-jobs.mjs; work folders in .cache/pack-builds/server-<pid>)
// The end-to-end tests and the benchmark start the same server in-process (startDemoServer).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PackJobQueue, packJobsHandler } from './lib/pack-jobs.mjs';
import { startStaticServer } from './lib/static-server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packageDir = (name) => join(root, 'node_modules', name); // npm workspaces hoist dependencies to the root

/** The asset base layout the SDK expects, mounted under `prefix`. */
export function assetMounts(prefix = '/assets/') {
  return {
    [`${prefix}mediapipe/wasm/`]: join(packageDir('@mediapipe/tasks-vision'), 'wasm'),
    [`${prefix}mediapipe/face_landmarker.task`]: join(root, 'models/mediapipe/face_landmarker.task'),
    [`${prefix}ort/`]: join(packageDir('onnxruntime-web'), 'dist'),
    [`${prefix}sdk/`]: join(root, 'packages/sdk/dist/worker'),
    [`${prefix}models/base/`]: join(root, 'models/base'),
    [`${prefix}packs/`]: join(root, 'models/packs'),
  };
}

export function demoMounts() {
  return {
    '/': join(root, 'packages/demo/dist'),
    // the base generator's clip of generated faces when committed, else the synthetic heads
    '/media/sample-face.webm': existsSync(join(root, 'models/media/generated-face.webm'))
      ? join(root, 'models/media/generated-face.webm') : join(root, '.cache/media/sample-face.webm'),
    ...assetMounts('/assets/'),
  };
}

/**
 * @param {{ port?: number, mounts?: Record<string, string>, packJobs?: ConstructorParameters<typeof PackJobQueue>[0] }} options
 *   extra mounts win over the demo's; packJobs: the build queue's folders and command (default:
 *   the CLI into models/packs, work in .cache/pack-builds/server-<pid>)
 */
export async function startDemoServer({ port = 0, mounts = {}, packJobs } = {}) {
  const builds = join(root, '.cache/pack-builds');
  removeDeadServersBuilds(builds);
  const workDir = packJobs?.workDir ?? join(builds, `server-${process.pid}`);
  const queue = new PackJobQueue({ packsDir: join(root, 'models/packs'), workDir, ...packJobs });
  const server = await startStaticServer({ mounts: { ...demoMounts(), ...mounts }, handlers: { '/api/pack-jobs': packJobsHandler(queue) }, port });
  const close = async () => {
    await queue.close();
    await server.close();
    rmSync(workDir, { recursive: true, force: true });
  };
  return { ...server, packJobs: queue, close };
}

/** Work folders of servers that died without closing (other running servers' stay). */
function removeDeadServersBuilds(builds) {
  for (const name of existsSync(builds) ? readdirSync(builds) : []) {
    const pid = Number(/^server-(\d+)$/.exec(name)?.[1]);
    let alive = false;
    try {
      alive = pid > 0 && process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) rmSync(join(builds, name), { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [what, path] of [
    ['the demo build (npm run build)', 'packages/demo/dist/index.html'],
    ['the base model (models/base/contract.json)', 'models/base/contract.json'],
    ['the MediaPipe bundle (npm run setup)', 'models/mediapipe/face_landmarker.task'],
  ]) {
    if (!existsSync(join(root, path))) console.warn(`serve-demo: ${what} is missing: ${path}`);
  }
  const server = await startDemoServer({ port: Number(process.env.PORT ?? 8080) });
  console.log(`face-stylizer demo on ${server.url}/  (Ctrl-C to stop)`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
