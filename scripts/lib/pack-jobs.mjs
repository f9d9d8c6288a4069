// The demo server's style-pack builds: a queue that runs one `face-stylizer pack build` at a time
// (the same CLI as the terminal: `npx tsx src/cli.ts pack build ... --progress json`), reads its
// progress, and publishes a finished pack into the packs folder (folder renamed in whole, then
// index.json rewritten) with a .tar archive to download. A cancelled or failed build leaves
// nothing in the packs folder: the CLI writes into the job's own work folder, which is removed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** How much of a build each stage is (measured: fine-tuning is nearly all of it). */
const STAGE_WEIGHTS = { align: 0.03, load: 0.04, finetune: 0.85, export: 0.04, preview: 0.02, pack: 0.02 };
const STAGES = Object.keys(STAGE_WEIGHTS);
/** Seconds the stages after fine-tuning take, for the ETA while it runs. */
const AFTER_FINETUNE_S = 25;
/**
 * Fine-tuning time cap passed to the CLI (`--minutes`, build_pack.py's default too): on a busy
 * machine the cap, not the step count, ends fine-tuning, so progress and ETA follow whichever
 * ends it first.
 */
export const FINETUNE_MINUTES = 9.25;
const IMAGE_TYPES = { png: 'png', jpg: 'jpg', jpeg: 'jpg', webp: 'webp' };
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

export function packIdFromName(name) {
  const id = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '').slice(0, 64);
  return id || 'style';
}

/** The real command: the CLI's `pack build` (tsx from the repository's node_modules). */
export function cliBuildCommand(job) {
  return {
    command: join(root, 'node_modules/.bin/tsx'),
    args: [join(root, 'src/cli.ts'), 'pack', 'build', '--style', job.inputs.style, ...(job.inputs.real ? ['--real', job.inputs.real] : []),
      '--name', job.name, '--id', job.packId, '--out', job.outDir, '--minutes', String(FINETUNE_MINUTES), '--progress', 'json'],
    cwd: root,
  };
}

/** The real archiver: `face-stylizer pack archive` through tsx's loader in this process. */
export async function cliArchive(packDir, tarPath) {
  const { tsImport } = await import('tsx/esm/api');
  const { archivePack } = await tsImport('../../src/packs/archive.ts', import.meta.url);
  await archivePack(packDir, tarPath);
}

export class PackJobQueue {
  /**
   * @param {{ packsDir: string, workDir: string, buildCommand?: (job) => { command: string, args: string[], cwd?: string },
   *   archive?: (packDir: string, tarPath: string) => Promise<void>, killGraceMs?: number }} options
   */
  constructor({ packsDir, workDir, buildCommand = cliBuildCommand, archive = cliArchive, killGraceMs = 10_000 }) {
    this.packsDir = packsDir;
    this.workDir = workDir;
    this.buildCommand = buildCommand;
    this.archive = archive;
    this.killGraceMs = killGraceMs;
    /** @type {Map<string, any>} in submission order */
    this.jobs = new Map();
    this.running = undefined;
    this.idle = Promise.resolve();
  }

  /**
   * @param {{ name: string, style: { filename: string, bytes: Uint8Array }, real?: { filename: string, bytes: Uint8Array } }} request
   * @returns the job's public view; throws Error with `status` 400 on a bad request
   */
  submit({ name, style, real }) {
    const bad = (message) => Object.assign(new Error(message), { status: 400 });
    name = typeof name === 'string' ? name.trim() : '';
    if (!name || name.length > 64) throw bad('a pack name of 1–64 characters is required');
    if (!style) throw bad('a style image is required');
    const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const dir = join(this.workDir, id);
    const inputs = {};
    for (const [role, file] of Object.entries({ style, real })) {
      if (!file) continue;
      const type = IMAGE_TYPES[String(file.filename).toLowerCase().replace(/^.*\./, '')];
      if (!type) throw bad(`${role} image: a .png, .jpg or .webp file is needed (${file.filename})`);
      if (!file.bytes?.length || file.bytes.length > MAX_IMAGE_BYTES) throw bad(`${role} image: 1 byte to ${MAX_IMAGE_BYTES >> 20} MB`);
      inputs[role] = join(dir, 'inputs', `${role}.${type}`);
    }
    mkdirSync(join(dir, 'inputs'), { recursive: true });
    writeFileSync(inputs.style, style.bytes);
    if (real) writeFileSync(inputs.real, real.bytes);
    const job = {
      id, name, packId: this.uniquePackId(packIdFromName(name)), mode: real ? 'pair' : 'style-only',
      state: 'queued', createdAt: Date.now(), startedAt: undefined, finishedAt: undefined,
      stage: undefined, fraction: 0, etaSeconds: undefined, error: undefined, log: [], finetuneStartedAt: undefined,
      dir, inputs, outDir: join(dir, 'pack'), archive: join(dir, 'pack.tar'), child: undefined, cancelRequested: false,
    };
    this.jobs.set(id, job);
    this.pump();
    return this.view(job);
  }

  list() {
    return [...this.jobs.values()].map((job) => this.view(job));
  }

  get(id) {
    const job = this.jobs.get(id);
    return job && this.view(job);
  }

  /** The finished pack's archive on disk, or undefined. */
  archivePath(id) {
    const job = this.jobs.get(id);
    return job?.state === 'succeeded' && existsSync(job.archive) ? job.archive : undefined;
  }

  /** Cancels a queued or running job; returns its view (unchanged when already finished). */
  cancel(id) {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    if (job.state === 'queued') {
      this.finish(job, 'cancelled');
    } else if (job.state === 'running' && !job.cancelRequested) {
      job.cancelRequested = true;
      job.stage = 'cancelling';
      const child = job.child;
      if (child) {
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), this.killGraceMs);
        child.once('close', () => clearTimeout(timer));
      }
    }
    return this.view(job);
  }

  /** Resolves when no job is queued or running. */
  async drain() {
    while (this.running || [...this.jobs.values()].some((job) => job.state === 'queued')) await this.idle;
  }

  /** Stops everything (server shutdown). */
  async close() {
    for (const job of this.jobs.values()) this.cancel(job.id);
    await this.drain();
  }

  uniquePackId(base) {
    const taken = (id) => existsSync(join(this.packsDir, id)) ||
      [...this.jobs.values()].some((job) => job.packId === id && ['queued', 'running'].includes(job.state));
    if (!taken(base)) return base;
    for (let n = 2; ; n += 1) if (!taken(`${base.slice(0, 60)}-${n}`)) return `${base.slice(0, 60)}-${n}`;
  }

  view(job) {
    const { child: _c, cancelRequested: _r, dir: _d, inputs: _i, outDir: _o, archive, log, finetuneStartedAt: _f, ...rest } = job;
    return { ...rest, log: log.slice(-20), archiveUrl: job.state === 'succeeded' ? `/api/pack-jobs/${job.id}/archive` : undefined };
  }

  pump() {
    if (this.running) return;
    const next = [...this.jobs.values()].find((job) => job.state === 'queued');
    if (!next) return;
    this.running = next;
    this.idle = this.run(next).finally(() => {
      this.running = undefined;
      this.pump();
    });
  }

  async run(job) {
    job.state = 'running';
    job.startedAt = Date.now();
    job.stage = 'starting';
    let code;
    let signal;
    try {
      ({ code, signal } = await this.spawnBuild(job));
    } catch (error) {
      return this.finish(job, 'failed', `could not start the build: ${error.message}`);
    }
    if (job.cancelRequested) return this.finish(job, 'cancelled');
    if (code !== 0) {
      const reported = [...job.log].reverse().find((line) => /^error\b/.test(line));
      return this.finish(job, 'failed', reported ?? `the build ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${job.log.length ? `: ${job.log.at(-1)}` : ''}`);
    }
    try {
      const manifest = JSON.parse(readFileSync(join(job.outDir, 'manifest.json'), 'utf8'));
      job.stage = 'publishing';
      await this.archive(job.outDir, job.archive);
      this.publish(job, manifest);
      return this.finish(job, 'succeeded');
    } catch (error) {
      return this.finish(job, 'failed', `the pack could not be published: ${error.message}`);
    }
  }

  spawnBuild(job) {
    const { command, args, cwd } = this.buildCommand(job);
    return new Promise((resolvePromise, reject) => {
      // its own process group, so cancelling reaches tsx, node and the Python fine-tuner
      const child = spawn(command, args, { cwd: cwd ?? root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      job.child = child;
      let pending = '';
      const onData = (chunk) => {
        pending += chunk.toString();
        const lines = pending.split(/\r?\n|\r/);
        pending = lines.pop() ?? '';
        for (const line of lines) this.onLine(job, line);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (pending) this.onLine(job, pending);
        job.child = undefined;
        resolvePromise({ code, signal });
      });
    });
  }

  onLine(job, line) {
    const text = line.trim();
    if (!text) return;
    let event;
    try {
      event = text.startsWith('{') ? JSON.parse(text) : undefined;
    } catch {
      event = undefined;
    }
    if (event?.event !== 'progress') {
      job.log.push(text);
      if (job.log.length > 200) job.log.splice(0, job.log.length - 200);
      return;
    }
    if (job.cancelRequested) return;
    const stage = STAGES.includes(event.stage) ? event.stage : undefined;
    if (!stage) return;
    let within = event.total > 0 ? Math.min(1, event.step / event.total) : 0;
    let stageEta = typeof event.etaSeconds === 'number' ? event.etaSeconds : undefined;
    if (stage === 'finetune') {
      job.finetuneStartedAt ??= Date.now();
      const capLeft = Math.max(0, FINETUNE_MINUTES * 60 - (Date.now() - job.finetuneStartedAt) / 1000);
      within = Math.max(within, 1 - capLeft / (FINETUNE_MINUTES * 60));
      if (stageEta !== undefined) stageEta = Math.min(stageEta, capLeft);
    }
    const before = STAGES.slice(0, STAGES.indexOf(stage)).reduce((sum, s) => sum + STAGE_WEIGHTS[s], 0);
    job.stage = stage;
    job.fraction = Math.max(job.fraction, Math.min(1, before + STAGE_WEIGHTS[stage] * within));
    const elapsed = (Date.now() - job.startedAt) / 1000;
    if (stage === 'finetune' && stageEta !== undefined) job.etaSeconds = Math.round(stageEta + AFTER_FINETUNE_S);
    else if (job.fraction > 0.1) job.etaSeconds = Math.round((elapsed * (1 - job.fraction)) / job.fraction);
    else job.etaSeconds = undefined;
  }

  /** Moves the verified pack into the packs folder in one rename and lists it in index.json. */
  publish(job, manifest) {
    mkdirSync(this.packsDir, { recursive: true });
    const target = join(this.packsDir, job.packId);
    if (existsSync(target)) throw new Error(`${target} appeared during the build`);
    try {
      renameSync(job.outDir, target);
    } catch {
      // another filesystem: copy beside, then rename (still never a half-written pack folder)
      const temp = join(this.packsDir, `.${job.packId}.publishing-${job.id}`);
      cpSync(job.outDir, temp, { recursive: true });
      renameSync(temp, target);
    }
    const indexFile = join(this.packsDir, 'index.json');
    const index = existsSync(indexFile) ? JSON.parse(readFileSync(indexFile, 'utf8')) : { packs: [] };
    const entry = {
      id: job.packId, name: manifest.name, description: manifest.description, path: `${job.packId}/`,
      preview: `${job.packId}/${manifest.files.preview.path}`, alpha: manifest.alpha,
    };
    index.packs = [...(index.packs ?? []).filter((p) => p.id !== job.packId), entry];
    index.default ??= job.packId;
    const temp = `${indexFile}.${job.id}.tmp`;
    writeFileSync(temp, `${JSON.stringify(index, null, 2)}\n`);
    renameSync(temp, indexFile);
  }

  finish(job, state, error) {
    job.state = state;
    job.finishedAt = Date.now();
    job.error = error;
    if (state !== 'succeeded') job.etaSeconds = undefined;
    if (state === 'succeeded') job.fraction = 1;
    job.stage = state;
    // keep only the archive of a finished pack; inputs and partial outputs go
    rmSync(job.inputs.style ? dirname(job.inputs.style) : join(job.dir, 'inputs'), { recursive: true, force: true });
    rmSync(job.outDir, { recursive: true, force: true });
    if (state !== 'succeeded') rmSync(job.dir, { recursive: true, force: true });
  }
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/**
 * HTTP handler for the static server: `/api/pack-jobs` GET (list), POST (JSON: name, style and
 * optionally real as { filename, data: base64 }), `/api/pack-jobs/<id>` GET, DELETE (cancel),
 * `/api/pack-jobs/<id>/archive` GET (the pack's .tar).
 */
export function packJobsHandler(queue) {
  const json = (res, status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  return (req, res, rest) => {
    const [id, sub] = rest.replace(/^\/+/, '').split('/').filter(Boolean);
    if (!id) {
      if (req.method === 'GET') return json(res, 200, { jobs: queue.list() });
      if (req.method !== 'POST') return json(res, 405, { error: 'GET or POST' });
      const chunks = [];
      let size = 0;
      req.on('data', (chunk) => {
        size += chunk.length;
        if (size > 3 * MAX_IMAGE_BYTES) req.destroy();
        else chunks.push(chunk);
      });
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          const file = (f) => f && { filename: String(f.filename ?? ''), bytes: Buffer.from(String(f.data ?? ''), 'base64') };
          json(res, 202, { job: queue.submit({ name: body.name, style: file(body.style), real: file(body.real) }) });
        } catch (error) {
          json(res, error.status ?? 400, { error: error.message });
        }
      });
      return undefined;
    }
    const job = queue.get(id);
    if (!job) return json(res, 404, { error: `no job ${id}` });
    if (sub === 'archive' && req.method === 'GET') {
      const path = queue.archivePath(id);
      if (!path) return json(res, 404, { error: 'no archive: the job has not succeeded' });
      const bytes = readFileSync(path);
      res.writeHead(200, { 'Content-Type': 'application/x-tar', 'Content-Length': bytes.length, 'Content-Disposition': `attachment; filename="${job.packId}.tar"` });
      return res.end(bytes);
    }
    if (!sub && req.method === 'GET') return json(res, 200, { job });
    if (!sub && req.method === 'DELETE') return json(res, 200, { job: queue.cancel(id) });
    return json(res, 405, { error: 'unsupported' });
  };
}
