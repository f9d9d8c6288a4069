/**
 * `face-stylizer pack build`: one real/style pair (or a style image alone) -> a verified style pack.
 *   1. check both files (type, bytes, pixels), detect + align the faces in headless Chromium
 *   2. run the Python fine-tuner (training/finetune/build_pack.py --work), reading its JSON
 *      progress lines: fine-tune, export generator.onnx, render preview.png
 *   3. buildPack into a temp dir beside OUT, verifyPack against the exported contract +
 *      encoder, then rename to OUT. Nothing is left at OUT on failure.
 */

import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

import type { FrameGrade } from '../../packages/sdk/src/blend/grade';
import type { ModelContract } from '../../packages/sdk/src/packs/contract';
import { buildPack } from '../packs/build';
import { loadBaseModel, verifyPack } from '../packs/verify';
import { checkFaces, checkInputFile, landmarkFiles } from './align';
import type { LandmarkedImage } from './align';
import { PackBuildError } from './errors';

const REPO = resolve(dirname(new URL(import.meta.url).pathname), '../..');

export interface BuildProgress {
  readonly stage: 'align' | 'load' | 'finetune' | 'export' | 'preview' | 'pack';
  readonly step: number;
  readonly total: number;
  /** Seconds left in this stage, when known. */
  readonly etaSeconds?: number;
  /** Losses of the last fine-tuning step. */
  readonly losses?: Readonly<Record<string, number>>;
}

export interface BuildStylePackOptions {
  readonly style: string;
  /** Real photo of the same person; omit for style-image-only mode. */
  readonly real?: string;
  readonly outDir: string;
  readonly name: string;
  readonly id?: string;
  readonly version?: string;
  readonly author?: string;
  readonly licence?: string;
  readonly description?: string;
  readonly steps?: number;
  readonly minutes?: number;
  /** Extra arguments for build_pack.py (e.g. ['--checkpoint', 'random']). */
  readonly pythonArgs?: readonly string[];
  readonly python?: string;
  /** Images already FFHQ-aligned squares: skip detection (tests, the shared pairs). */
  readonly assumeAligned?: boolean;
  /** Replaces the browser landmarker (tests). */
  readonly landmark?: (files: readonly string[]) => Promise<LandmarkedImage[]>;
  readonly onProgress?: (progress: BuildProgress) => void;
  /** Non-fatal problems (e.g. the pack's base encoder differs from models/base/encoder.onnx). */
  readonly onWarning?: (message: string) => void;
}

export function packIdFromName(name: string): string {
  const id = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '').slice(0, 64);
  return id || 'style';
}

export async function buildStylePack(options: BuildStylePackOptions): Promise<{ dir: string; seconds: number; build: Record<string, unknown> }> {
  const started = Date.now();
  const outDir = resolve(options.outDir);
  if (await exists(outDir)) throw new Error(`${outDir} already exists; remove it or choose another --out`);
  const inputs = options.real ? [options.real, options.style] : [options.style];
  for (const file of inputs) await checkInputFile(file);

  await mkdir(dirname(outDir), { recursive: true });
  const temp = await mkdtemp(join(dirname(outDir), `.${basename(outDir)}.building-`));
  // Ctrl-C / kill: `finally` does not run when the process dies of a signal, so clean up here
  // (the Python child gets the terminal's SIGINT too)
  const onSignal = (signal: NodeJS.Signals): void => {
    rmSync(temp, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let align: Record<string, { cropFromImage: readonly number[] }> | undefined;
    if (!options.assumeAligned) {
      options.onProgress?.({ stage: 'align', step: 0, total: 1 });
      const landmarked = await (options.landmark ?? landmarkFiles)(inputs.map((f) => resolve(f)));
      const aligned = checkFaces(landmarked);
      align = options.real ? { real: aligned[0]!, style: aligned[1]! } : { style: aligned[0]! };
      await writeFile(join(temp, 'align.json'), JSON.stringify(align));
      options.onProgress?.({ stage: 'align', step: 1, total: 1 });
    }

    const work = join(temp, 'work');
    const args = [
      join(REPO, 'training/finetune/build_pack.py'), '--work', work, '--style', resolve(options.style),
      '--name', options.name, '--progress', 'json',
      ...(options.real ? ['--real', resolve(options.real)] : []),
      ...(align ? ['--align', join(temp, 'align.json')] : []),
      ...(options.steps !== undefined ? ['--steps', String(options.steps)] : []),
      ...(options.minutes !== undefined ? ['--minutes', String(options.minutes)] : []),
      ...(options.pythonArgs ?? []),
    ];
    await runFinetuner(options.python ?? '/usr/bin/python3', args, options.onProgress, options.onWarning);

    options.onProgress?.({ stage: 'pack', step: 0, total: 1 });
    const build = JSON.parse(await readFile(join(work, 'build.json'), 'utf8')) as Record<string, unknown> & {
      encoderSha256: string; options: unknown; stats: Record<string, unknown>; mode: string; guide: string; checkpoint: string;
      metrics: unknown; grade?: FrameGrade | null;
    };
    const contract = JSON.parse(await readFile(join(work, 'contract.json'), 'utf8')) as ModelContract;
    const packDir = join(temp, 'pack');
    await buildPack({
      outDir: packDir,
      generatorOnnx: join(work, 'generator.onnx'),
      preview: join(work, 'preview.png'),
      contract,
      encoderSha256: build.encoderSha256,
      id: options.id ?? packIdFromName(options.name),
      name: options.name,
      version: options.version ?? '0.1.0',
      description: options.description ?? `One-shot style from ${basename(options.style)}${options.real ? ` (paired with ${basename(options.real)})` : ' (style image only)'}.`,
      licence: options.licence ?? 'LicenseRef-non-commercial-research',
      author: options.author ?? 'face-stylizer pack build',
      training: {
        method: 'DoesFS-style one-shot fine-tuning', mode: build.mode, guide: build.guide, checkpoint: basename(build.checkpoint),
        // file names only (no local paths in a shared manifest): the scorecard finds them again
        style: basename(options.style), real: options.real ? basename(options.real) : null,
        options: build.options, steps: build.stats['steps'], seconds: Math.round((Date.now() - started) / 1000),
        metrics: build.metrics,
      },
      grade: build.grade ?? null,
    });
    // the same checks the runtime will make, against the base the generator was trained behind
    await verifyPack(packDir, { base: await loadBaseModel(work) });
    await rename(packDir, outDir);
    options.onProgress?.({ stage: 'pack', step: 1, total: 1 });
    return { dir: outDir, seconds: (Date.now() - started) / 1000, build };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(temp, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

function runFinetuner(
  python: string,
  args: readonly string[],
  onProgress?: (p: BuildProgress) => void,
  onWarning?: (message: string) => void,
): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } });
    let error: PackBuildError | undefined;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let event: Record<string, unknown>;
      try { event = JSON.parse(line) as Record<string, unknown>; } catch { return; }
      if (event['event'] === 'progress') {
        const { stage, step, total, eta_s: eta, event: _e, ...losses } = event as Record<string, number | string>;
        onProgress?.({
          stage: stage as BuildProgress['stage'], step: Number(step), total: Number(total),
          ...(eta === undefined ? {} : { etaSeconds: Number(eta) }),
          ...(Object.keys(losses).length ? { losses: losses as Record<string, number> } : {}),
        });
      } else if (event['event'] === 'warning') {
        onWarning?.(String(event['message']));
      } else if (event['event'] === 'error') {
        const code = String(event['code']);
        const known = ['not-an-image', 'too-large'].includes(code) ? (code as 'not-an-image' | 'too-large') : 'finetune-failed';
        error = new PackBuildError(known, `${code}: ${String(event['message'])}`);
      }
    });
    child.on('error', (e) => reject(new PackBuildError('finetune-failed', `could not start ${python}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        // one line: the last thing the fine-tuner said (a Python traceback ends with the exception)
        const last = stderr.trim().split('\n').filter((l) => l.trim()).pop()?.trim() ?? 'no output';
        reject(error ?? new PackBuildError('finetune-failed', `build_pack.py ${how}: ${last}`));
      }
    });
  });
}

/** "finetune [#########-----------]  45%  ETA 3m12s" (pure, for the CLI's stderr line). */
export function formatProgress(p: BuildProgress, width = 24): string {
  const fraction = p.total > 0 ? Math.min(1, p.step / p.total) : 0;
  const filled = Math.round(fraction * width);
  const eta = p.etaSeconds === undefined ? '' : `  ETA ${formatDuration(p.etaSeconds)}`;
  const losses = p.losses ? '  ' + ['dir', 'rsc', 'rec', 'checker'].filter((k) => k in p.losses!).map((k) => `${k} ${p.losses![k]!.toFixed(3)}`).join(' ') : '';
  return `${p.stage.padEnd(8)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%${eta}${losses}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
