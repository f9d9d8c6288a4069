// The pack-build queue with a tiny stand-in for `pack build` (a node one-liner that prints the
// CLI's JSON progress lines, then writes a pack, fails or hangs): one build at a time, in order;
// a failed or cancelled build leaves nothing in the packs folder and the queue goes on.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.setConfig({ testTimeout: 30_000 });
import { FINETUNE_MINUTES, PackJobQueue, packIdFromName } from './pack-jobs.mjs';

const FAKE_BUILD = `
const [mode, out, id] = process.argv.slice(1);
const fs = require('node:fs');
const progress = (stage, step, total, etaSeconds) => console.error(JSON.stringify({ event: 'progress', stage, step, total, etaSeconds }));
progress('align', 1, 1);
progress('finetune', 5, 10, 3);
progress('finetune', 6, 10, 100000); // a step-based ETA beyond the fine-tuning time cap
if (mode === 'fail') { console.error('error [no-face]: no face in style.png'); process.exit(1); }
fs.mkdirSync(out, { recursive: true });
if (mode === 'hang') {
  fs.writeFileSync(out + '/half.onnx', 'x');
  setInterval(() => {}, 1000);
} else {
  fs.writeFileSync(out + '/manifest.json', JSON.stringify({ id, name: 'N', description: 'd', alpha: { min: 0, max: 1, default: 1 }, files: { preview: { path: 'preview.png' } } }));
  fs.writeFileSync(out + '/preview.png', 'png');
  progress('pack', 1, 1);
  console.log('built ' + out);
}
`;

let dir;
let queue;
const png = { filename: 'style.png', bytes: new Uint8Array([137, 80, 78, 71]) };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pack-jobs-test-'));
  queue = new PackJobQueue({
    packsDir: join(dir, 'packs'),
    workDir: join(dir, 'work'),
    buildCommand: (job) => ({ command: process.execPath, args: ['-e', FAKE_BUILD, job.name.split(' ')[0], job.outDir, job.packId] }),
    archive: async (packDir, tar) => writeFileSync(tar, readdirSync(packDir).join(',')),
    killGraceMs: 2000,
  });
});
afterEach(async () => {
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PackJobQueue', () => {
  it('runs one build at a time, publishes the pack and lists it in index.json', async () => {
    const a = queue.submit({ name: 'ok first', style: png });
    const b = queue.submit({ name: 'ok second', style: png, real: { filename: 'real.jpg', bytes: png.bytes } });
    expect(queue.get(a.id).state).toBe('running');
    expect(queue.get(b.id).state).toBe('queued');
    expect(b.mode).toBe('pair');
    await queue.drain();
    for (const job of [a, b]) {
      const done = queue.get(job.id);
      expect(done.state).toBe('succeeded');
      expect(done.fraction).toBe(1);
      expect(existsSync(join(dir, 'packs', job.packId, 'manifest.json'))).toBe(true);
      expect(queue.archivePath(job.id)).toBeTruthy();
    }
    expect(queue.get(a.id).finishedAt).toBeLessThanOrEqual(queue.get(b.id).startedAt);
    const index = JSON.parse(readFileSync(join(dir, 'packs/index.json'), 'utf8'));
    expect(index.packs.map((p) => p.id)).toEqual(['ok-first', 'ok-second']);
    expect(index.packs[0].preview).toBe('ok-first/preview.png');
    // the work folders keep only the archives
    expect(readdirSync(join(dir, 'work', a.id))).toEqual(['pack.tar']);
  });

  it('reports progress and an ETA from the CLI progress lines', async () => {
    const seen = [];
    const job = queue.submit({ name: 'hang', style: png });
    for (let i = 0; i < 200 && !seen.some((v) => v.stage === 'finetune' && v.fraction >= 0.5); i += 1) {
      await new Promise((r) => setTimeout(r, 50));
      seen.push(queue.get(job.id));
    }
    const last = seen.at(-1);
    expect(last.stage).toBe('finetune');
    expect(last.fraction).toBeGreaterThan(0.3);
    expect(last.fraction).toBeLessThan(1);
    expect(last.etaSeconds).toBeGreaterThan(0);
    // the CLI is given --minutes FINETUNE_MINUTES: the ETA never exceeds what the cap leaves
    expect(last.etaSeconds).toBeLessThanOrEqual(FINETUNE_MINUTES * 60 + 25);
  });

  it('a failed build reports the CLI error, leaves nothing in packs, and the next one runs', async () => {
    const failed = queue.submit({ name: 'fail', style: png });
    const next = queue.submit({ name: 'ok after', style: png });
    await queue.drain();
    expect(queue.get(failed.id)).toMatchObject({ state: 'failed', error: 'error [no-face]: no face in style.png' });
    expect(existsSync(join(dir, 'work', failed.id))).toBe(false);
    expect(queue.get(next.id).state).toBe('succeeded');
    expect(readdirSync(join(dir, 'packs')).sort()).toEqual(['index.json', 'ok-after']);
  });

  it('cancels a running build (its process group) and a queued one; nothing is left behind', async () => {
    const running = queue.submit({ name: 'hang', style: png });
    const queued = queue.submit({ name: 'ok queued', style: png });
    const after = queue.submit({ name: 'ok after', style: png });
    for (let i = 0; i < 200 && queue.get(running.id).stage !== 'finetune'; i += 1) await new Promise((r) => setTimeout(r, 50));
    expect(queue.cancel(queued.id).state).toBe('cancelled');
    queue.cancel(running.id);
    await queue.drain();
    expect(queue.get(running.id).state).toBe('cancelled');
    expect(existsSync(join(dir, 'work', running.id))).toBe(false);
    expect(queue.get(after.id).state).toBe('succeeded');
    expect(readdirSync(join(dir, 'packs')).sort()).toEqual(['index.json', 'ok-after']);
  });

  it('refuses bad requests and keeps pack ids unique', () => {
    expect(() => queue.submit({ name: '', style: png })).toThrow(/name/);
    expect(() => queue.submit({ name: 'x', style: { filename: 'a.gif', bytes: png.bytes } })).toThrow(/png/);
    expect(() => queue.submit({ name: 'x' })).toThrow(/style image/);
    const first = queue.submit({ name: 'hang', style: png });
    const second = queue.submit({ name: 'hang', style: png });
    expect([first.packId, second.packId]).toEqual(['hang', 'hang-2']);
    expect(packIdFromName('My Toon!')).toBe('my-toon');
  });
});
