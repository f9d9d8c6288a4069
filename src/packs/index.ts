/** Node tooling for style packs: build, verify, archive. The format is docs/style-pack.md. */

export { buildPack } from './build';
export type { BuildPackOptions, FileSource } from './build';
export { loadBaseModel, readPackManifest, sha256File, verifyPack } from './verify';
export type { OpenedPack, VerifyPackOptions } from './verify';
export { archivePack, extractPack } from './archive';
export { packSubcommands, runPackCommand } from './cli';
export type { CliOutput, PackSubcommand } from './cli';
