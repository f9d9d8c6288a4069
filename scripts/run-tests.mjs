#!/usr/bin/env node
// Runs every suite — unit (vitest), trainer (pytest), end-to-end (Playwright in Chromium) — and
// prints one closing line "N passed, N failed, N skipped". Exit code 1 if anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const reports = '.cache/test-reports';
rmSync(reports, { recursive: true, force: true });
mkdirSync(reports, { recursive: true });
const only = process.argv.slice(2);
const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

function run(name, command, args, parse, env = {}) {
  if (only.length && !only.includes(name)) return;
  console.log(`\n=== ${name}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  let counts;
  try {
    counts = parse();
  } catch (error) {
    counts = { passed: 0, failed: 1, skipped: 0 };
    console.error(`${name}: no report (${error.message}); exit code ${result.status}`);
  }
  if (result.status !== 0 && counts.failed === 0) counts.failed = 1; // a crash with no failed test still fails
  for (const key of Object.keys(totals)) totals[key] += counts[key];
  lines.push(`${name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
}

run('unit', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${reports}/vitest.json`], () => {
  const r = JSON.parse(readFileSync(`${reports}/vitest.json`, 'utf8'));
  return { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + (r.numTodoTests ?? 0) };
});

run('trainer', '/usr/bin/python3', ['-m', 'pytest', '-q', 'training/tests', `--junitxml=${reports}/pytest.xml`], () => {
  const xml = readFileSync(`${reports}/pytest.xml`, 'utf8');
  const attr = (n) => Number((xml.match(new RegExp(`<testsuite[^>]*\\s${n}="(\\d+)"`)) ?? [])[1] ?? 0);
  const failed = attr('failures') + attr('errors');
  return { passed: attr('tests') - failed - attr('skipped'), failed, skipped: attr('skipped') };
}, { OMP_NUM_THREADS: '2' });

if (existsSync('e2e/playwright.config.mjs')) {
  run('e2e', 'npx', ['playwright', 'test', '-c', 'e2e/playwright.config.mjs', '--reporter=list,json'], () => {
    const r = JSON.parse(readFileSync(join(reports, 'playwright.json'), 'utf8'));
    return { passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected, skipped: r.stats.skipped };
  }, { PLAYWRIGHT_JSON_OUTPUT_NAME: join(process.cwd(), reports, 'playwright.json') }); // else relative to e2e/
}

console.log('\n' + lines.join('\n'));
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
