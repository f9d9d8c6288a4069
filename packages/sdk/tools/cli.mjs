// `face-stylizer assets <dir>`: copies what a page using @face-stylizer/sdk serves under its
// asset base (tools/assets.mjs), for the chosen execution providers, into <dir>. Run by
// bin/face-stylizer.mjs (npx face-stylizer) and by the repository's src/cli.ts.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { listAssets } from './assets.mjs';

export const USAGE = `usage: face-stylizer assets <dir> [--ep webgpu,wasm] [--packs default|all|none|ID,...] [--no-bundle]
  Copies into <dir> everything the SDK loads from its asset base:
  the MediaPipe landmarker (wasm + .task), onnxruntime-web's WASM core for each provider
  (--ep wasm: the CPU path only; default webgpu,wasm like the SDK), the SDK's two workers,
  the base model, the chosen style packs (packs/<id>/ and packs/index.json), and the
  self-contained SDK module face-stylizer.bundle.js (omit with --no-bundle). The SDK's default
  assetBase is the folder its module was loaded from, so a page importing
  <dir>/face-stylizer.bundle.js needs no assetBase.`;

export function runAssets(args, log = console.log) {
  const { values, positionals } = parseArgs({
    args,
    options: { ep: { type: 'string' }, packs: { type: 'string' }, 'no-bundle': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 1) {
    log(USAGE);
    return values.help ? 0 : 2;
  }
  const out = resolve(positionals[0]);
  const packs = values.packs ?? 'default';
  const files = listAssets({
    executionProviders: values.ep ? values.ep.split(',').map((s) => s.trim()) : undefined,
    packs: ['default', 'all', 'none'].includes(packs) ? packs : packs.split(','),
    bundle: !values['no-bundle'],
  });
  for (const file of files) {
    const target = join(out, file.path);
    mkdirSync(dirname(target), { recursive: true });
    if (file.content !== undefined) writeFileSync(target, file.content);
    else copyFileSync(file.from, target);
  }
  const total = files.reduce((sum, file) => sum + file.bytes, 0);
  log(`face-stylizer: ${files.length} files, ${(total / 1e6).toFixed(1)} MB into ${relative(process.cwd(), out) || '.'}/`);
  return 0;
}
