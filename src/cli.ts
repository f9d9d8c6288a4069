/**
 * The face-stylizer command line. Run it with tsx (a root devDependency):
 *   npx tsx src/cli.ts pack verify packs/caricature --base models/base
 *   npx tsx src/cli.ts assets /tmp/site --ep wasm      (as `npx face-stylizer assets` of the SDK package)
 * Each top-level command is one entry of `commands`.
 */

import { pathToFileURL } from 'node:url';

import { runAssets } from '../packages/sdk/tools/cli.mjs';
import { runPackCommand } from './packs/cli';
import type { CliOutput } from './packs/cli';

const commands: Record<string, (args: string[], output: CliOutput) => Promise<number>> = {
  pack: runPackCommand,
  // the published SDK's `npx face-stylizer assets <dir>` (packages/sdk/tools/cli.mjs)
  assets: async (args, output) => {
    try {
      return runAssets(args, output.out);
    } catch (error) {
      output.err(`error: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
  },
};

const consoleOutput: CliOutput = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

export async function main(args: string[], output: CliOutput = consoleOutput): Promise<number> {
  const [name, ...rest] = args;
  const command = name === undefined ? undefined : commands[name];
  if (!command) {
    output.err(`usage: face-stylizer <command> ...\ncommands: ${Object.keys(commands).join(', ')}`);
    return 2;
  }
  return command(rest, output);
}

// Run only when executed, so tests can import main().
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
