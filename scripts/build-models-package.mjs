#!/usr/bin/env node
// Fills packages/models (@face-stylizer/models) from models/ for `npm pack` (its prepack script),
// and empties it again with --clean (postpack): the repository keeps one copy of every model.
//
//   mediapipe/face_landmarker.task   models/mediapipe/face_landmarker.task
//   base/                            models/base: contract.json and the encoder/generator it names
//   packs/<id>/, packs/index.json    the default style packs: those of models/packs/index.json that
//                                    are committed (not the base-reconstruction stand-in made at
//                                    set-up, nor packs built locally with the demo's pack builder);
//                                    index.json rewritten to them
//   NOTICE.md, LICENSE-APACHE-2.0    what each file is licensed under
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const models = join(root, 'models');
const out = join(root, 'packages/models');
const GENERATED = ['mediapipe', 'base', 'packs', 'NOTICE.md', 'LICENSE-APACHE-2.0'];
const LEFT_OUT = new Set(['base-reconstruction']);

for (const name of GENERATED) rmSync(join(out, name), { recursive: true, force: true });
if (process.argv.includes('--clean')) process.exit(0);

const copy = (from, to) => {
  if (!existsSync(from)) throw new Error(`build-models-package: ${from} is missing (npm run setup)`);
  mkdirSync(dirname(join(out, to)), { recursive: true });
  copyFileSync(from, join(out, to));
};

copy(join(models, 'mediapipe/face_landmarker.task'), 'mediapipe/face_landmarker.task');
const contract = JSON.parse(readFileSync(join(models, 'base/contract.json'), 'utf8'));
copy(join(models, 'base/contract.json'), 'base/contract.json');
for (const file of new Set([contract.encoder.file, contract.generator.file])) copy(join(models, 'base', file), `base/${file}`);

const index = JSON.parse(readFileSync(join(models, 'packs/index.json'), 'utf8'));
const committed = new Set(
  execFileSync('git', ['ls-files', 'models/packs/*/manifest.json'], { cwd: root, encoding: 'utf8' })
    .split('\n').filter(Boolean).map((path) => path.split('/')[2]),
);
const packs = index.packs.filter((p) => !LEFT_OUT.has(p.id) && committed.has(p.id) && existsSync(join(models, 'packs', p.id, 'manifest.json')));
const licences = new Map();
for (const pack of packs) {
  const manifest = JSON.parse(readFileSync(join(models, 'packs', pack.id, 'manifest.json'), 'utf8'));
  copy(join(models, 'packs', pack.id, 'manifest.json'), `packs/${pack.id}/manifest.json`);
  for (const file of Object.values(manifest.files)) copy(join(models, 'packs', pack.id, file.path), `packs/${pack.id}/${file.path}`);
  licences.set(manifest.licence, [...(licences.get(manifest.licence) ?? []), pack.id]);
}
const defaultId = packs.some((p) => p.id === index.default) ? index.default : packs[0]?.id;
writeFileSync(join(out, 'packs/index.json'), `${JSON.stringify({ default: defaultId, packs }, null, 2)}\n`);

copyFileSync('/usr/share/common-licenses/Apache-2.0', join(out, 'LICENSE-APACHE-2.0'));
const mediapipeNotice = readFileSync(join(models, 'mediapipe/NOTICE.md'), 'utf8').replace(/^# .*\n/, '');
writeFileSync(join(out, 'NOTICE.md'), `# Licences of @face-stylizer/models

## mediapipe/face_landmarker.task: Apache-2.0 (LICENSE-APACHE-2.0)
${mediapipeNotice.trim()}

## base/: non-commercial research use only
The base encoder and generator were trained only on CelebA face crops and UTKFace chips, both
licensed for non-commercial research only. These weights inherit that restriction.

## packs/: as each manifest's \`licence\` says
${[...licences].map(([licence, ids]) => `- ${licence}: ${ids.join(', ')}`).join('\n')}

The style packs are fine-tuned from the base generator and inherit its restriction
(non-commercial research use only).
`);
console.log(`build-models-package: packages/models filled from models/ (base, face_landmarker.task, ${packs.length} packs: ${packs.map((p) => p.id).join(', ')})`);
