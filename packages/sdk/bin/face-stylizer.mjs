#!/usr/bin/env node
// `npx face-stylizer assets <dir> [--ep webgpu,wasm] [--packs ...] [--no-bundle]` (tools/cli.mjs).
import { USAGE, runAssets } from '../tools/cli.mjs';

const [command, ...rest] = process.argv.slice(2);
if (command === 'assets') {
  try {
    process.exitCode = runAssets(rest);
  } catch (error) {
    console.error(`face-stylizer: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
} else {
  console.error(`${command === undefined || command === '--help' ? '' : `unknown command: ${command}\n`}${USAGE}`);
  process.exitCode = command === '--help' ? 0 : 2;
}
