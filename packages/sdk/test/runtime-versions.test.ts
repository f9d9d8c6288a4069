import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The SDK bundles onnxruntime-web's and tasks-vision's JavaScript (dist/, dist/worker/) while
// their .wasm / .mjs glue is served from the asset base out of node_modules: the two must be
// the same release. A range (^1.30.0) lets `npm install` pick 1.31 for the served files of an
// application while the bundles embed 1.30, and the runtime then fails in ways that name neither.
const root = join(__dirname, '../../..');
const json = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));
const PINNED = ['onnxruntime-web', '@mediapipe/tasks-vision'] as const;

describe('runtime versions: the WASM runtimes are pinned to what the bundles embed', () => {
  it.each(PINNED)('%s is an exact version in packages/sdk/package.json, equal to the installed one and the lockfile', (name) => {
    const spec = json('packages/sdk/package.json').dependencies[name] as string;
    expect(spec, `${name} must be pinned, not a range`).toMatch(/^\d+\.\d+\.\d+$/);
    expect(json(`node_modules/${name}/package.json`).version).toBe(spec);
    const lock = json('package-lock.json');
    expect(lock.packages['packages/sdk'].dependencies[name]).toBe(spec);
    expect(lock.packages[`node_modules/${name}`].version).toBe(spec);
  });
});
