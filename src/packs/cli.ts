/**
 * `face-stylizer pack <subcommand>`. Each subcommand is one entry of `packSubcommands`;
 * `pack build` is the fine-tune module's entry (src/finetune/).
 * Exit codes: 0 ok, 1 the pack was refused (StylePackError), 2 usage or other errors.
 */

import { parseArgs } from 'node:util';

import { StylePackError } from '../../packages/sdk/src/packs/errors';
import type { StylePackManifest } from '../../packages/sdk/src/packs/manifest';
import { PackBuildError } from '../finetune/errors';
import { buildStylePack, formatDuration, formatProgress } from '../finetune/build';
import { archivePack, extractPack } from './archive';
import { loadBaseModel, readPackManifest, verifyPack } from './verify';

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

export interface PackSubcommand {
  /** Arguments after `pack NAME`, e.g. "PATH [--base DIR]". */
  readonly usage: string;
  readonly summary: string;
  run(args: string[], output: CliOutput): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_PACK_REFUSED = 1;
export const EXIT_USAGE = 2;

class UsageError extends Error {}

export const packSubcommands: Record<string, PackSubcommand> = {
  build: {
    usage: '--style STYLE [--real REAL] --name NAME --out DIR [--steps N] [--minutes M] [--id ID] [--author A] [--licence L] [--assume-aligned] [--progress bar|json] [-- BUILD_PACK_ARGS]',
    summary: 'fine-tune a style pack from one real/style pair (or a style image alone) on CPU, then write and verify it',
    async run(args, output) {
      const { values, positionals } = parseArgs({
        args,
        options: {
          style: { type: 'string' }, real: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' },
          steps: { type: 'string' }, minutes: { type: 'string' }, id: { type: 'string' }, author: { type: 'string' },
          licence: { type: 'string' }, description: { type: 'string' }, version: { type: 'string' },
          'assume-aligned': { type: 'boolean' }, progress: { type: 'string' },
        },
        allowPositionals: true,
      });
      if (!values.style || !values.out) throw new UsageError('--style and --out are required');
      const number = (v: string | undefined, flag: string): number | undefined => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number`);
        return n;
      };
      const tty = process.stderr.isTTY;
      let lastLine = '';
      const result = await buildStylePack({
        style: values.style, ...(values.real ? { real: values.real } : {}), outDir: values.out,
        name: values.name ?? values.style.replace(/^.*\//, '').replace(/\.[^.]*$/, ''),
        ...(values.id ? { id: values.id } : {}), ...(values.author ? { author: values.author } : {}),
        ...(values.licence ? { licence: values.licence } : {}), ...(values.description ? { description: values.description } : {}),
        ...(values.version ? { version: values.version } : {}),
        ...(number(values.steps, '--steps') !== undefined ? { steps: number(values.steps, '--steps')! } : {}),
        ...(number(values.minutes, '--minutes') !== undefined ? { minutes: number(values.minutes, '--minutes')! } : {}),
        assumeAligned: values['assume-aligned'] ?? false,
        pythonArgs: positionals,
        onWarning: (message) => output.err(`${tty ? '\n' : ''}warning: ${message}`),
        onProgress: (p) => {
          // one JSON object per line on stderr, for programs (the demo server's build queue)
          if (values.progress === 'json') return output.err(JSON.stringify({ event: 'progress', ...p }));
          const line = formatProgress(p);
          // a live bar on a terminal; otherwise only every 10% (logs stay short)
          if (tty) process.stderr.write(`\r${line}${p.step === p.total ? '\n' : ''}`);
          else if (line.slice(0, 40) !== lastLine.slice(0, 40)) output.err(line);
          lastLine = line;
        },
      });
      output.out(`built ${result.dir} in ${formatDuration(result.seconds)} ` +
        `(${String((result.build['stats'] as Record<string, unknown>)['steps'])} steps, ` +
        `${Number((result.build['stats'] as Record<string, unknown>)['ms_per_step']).toFixed(0)} ms/step)`);
      return EXIT_OK;
    },
  },
  verify: {
    usage: 'PATH [--base BASE]',
    summary: 'check a pack directory or .tar completely; BASE is a directory with contract.json (and encoder) or a contract.json',
    async run(args, output) {
      const { values, positionals } = parseArgs({ args, options: { base: { type: 'string' } }, allowPositionals: true });
      const [path] = positionalArgs(positionals, 1);
      const base = values.base === undefined ? undefined : await loadBaseModel(values.base);
      const { manifest, kind } = await verifyPack(path, base ? { base } : {});
      output.out(`ok: ${manifest.id} ${manifest.version} (${kind}), ${Object.keys(manifest.files).length} files match the manifest`);
      for (const [name, file] of Object.entries(manifest.files)) {
        output.out(`  ${name.padEnd(10)} ${file.path}  ${file.bytes} bytes  sha256 ${file.sha256}`);
      }
      if (!base) output.out('not checked against a base model (pass --base models/base)');
      else if (!base.encoderSha256) output.out(`contract compatible with ${values.base} (no encoder file there to compare hashes)`);
      else output.out(`compatible with ${values.base}, encoder sha256 matches`);
      return EXIT_OK;
    },
  },
  info: {
    usage: 'PATH [--json]',
    summary: 'show what a pack is (validates the manifest only; use verify to check the files)',
    async run(args, output) {
      const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: true });
      const [path] = positionalArgs(positionals, 1);
      const { manifest, kind } = await readPackManifest(path);
      if (values.json) output.out(JSON.stringify(manifest, null, 2));
      else describeManifest(manifest, kind).forEach((line) => output.out(line));
      return EXIT_OK;
    },
  },
  archive: {
    usage: 'PATH OUT.tar',
    summary: 'verify a pack and write it as a single-file tar archive',
    async run(args, output) {
      const [path, archivePath] = positionalArgs(parseArgs({ args, allowPositionals: true }).positionals, 2);
      const manifest = await archivePack(path, archivePath);
      output.out(`wrote ${archivePath} (${manifest.id} ${manifest.version})`);
      return EXIT_OK;
    },
  },
  extract: {
    usage: 'ARCHIVE.tar OUT_DIR',
    summary: 'verify a pack archive and unpack it into a new or empty directory, ready to serve',
    async run(args, output) {
      const [archivePath, outDir] = positionalArgs(parseArgs({ args, allowPositionals: true }).positionals, 2);
      const manifest = await extractPack(archivePath, outDir);
      output.out(`extracted ${manifest.id} ${manifest.version} into ${outDir}`);
      return EXIT_OK;
    },
  },
};

export function packUsage(): string {
  const lines = Object.entries(packSubcommands).map(
    ([name, command]) => `  face-stylizer pack ${name} ${command.usage}\n      ${command.summary}`,
  );
  return ['usage:', ...lines].join('\n');
}

export async function runPackCommand(args: string[], output: CliOutput): Promise<number> {
  const [name, ...rest] = args;
  const command = name === undefined ? undefined : packSubcommands[name];
  if (!command) {
    if (name !== undefined && name !== '--help') output.err(`unknown pack subcommand: ${name}`);
    output.err(packUsage());
    return name === '--help' ? EXIT_OK : EXIT_USAGE;
  }
  try {
    return await command.run(rest, output);
  } catch (error) {
    if (error instanceof PackBuildError) {
      output.err(`error [${error.code}]: ${error.message}`);
      return EXIT_PACK_REFUSED;
    }
    if (error instanceof StylePackError) {
      output.err(`error [${error.code}]: ${error.message}`);
      return EXIT_PACK_REFUSED;
    }
    const message = error instanceof Error ? error.message : String(error);
    // parseArgs reports unknown options and missing values as errors with ERR_PARSE_ARGS_* codes.
    const isUsage = error instanceof UsageError || String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    output.err(isUsage ? `${message}\nusage: face-stylizer pack ${name} ${command.usage}` : `error: ${message}`);
    return EXIT_USAGE;
  }
}

function positionalArgs(positionals: string[], count: 1): [string];
function positionalArgs(positionals: string[], count: 2): [string, string];
function positionalArgs(positionals: string[], count: number): string[] {
  if (positionals.length !== count) throw new UsageError(`expected ${count} argument${count > 1 ? 's' : ''}, got ${positionals.length}`);
  return positionals;
}

function describeManifest(manifest: StylePackManifest, kind: string): string[] {
  const { contract, alpha } = manifest;
  const shape = (dims: readonly number[]): string => `[${dims.join(', ')}]`;
  return [
    `${manifest.name}  (${manifest.id} ${manifest.version})`,
    ...(manifest.description ? [`  ${manifest.description}`] : []),
    `author     ${manifest.author}`,
    `licence    ${manifest.licence}`,
    `created    ${manifest.createdAt}`,
    `format     ${manifest.format} v${manifest.formatVersion} (${kind})`,
    `contract   v${contract.contractVersion}, crop ${contract.crop.size} ${contract.crop.alignment}, ` +
      `w_plus ${shape(contract.generator.inputs.w_plus.shape)}, features ${shape(contract.generator.inputs.features.shape)}`,
    `alpha      default ${alpha.default}, range ${alpha.min}..${alpha.max} (generator supports ${contract.alpha.min}..${contract.alpha.max})`,
    `base       encoder sha256 ${manifest.base.encoderSha256}`,
    ...Object.entries(manifest.files).map(
      ([name, file], i) =>
        `${i === 0 ? 'files' : ''.padEnd(5)}      ${name.padEnd(10)} ${file.path}  ${file.bytes} bytes${file.mediaType ? `  ${file.mediaType}` : ''}`,
    ),
    `training   ${JSON.stringify(manifest.training)}`,
  ];
}
