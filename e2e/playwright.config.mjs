// End-to-end tests in headless Debian Chromium with a fake camera (`npm test` runs them through
// scripts/run-tests.mjs: `npx playwright test -c e2e/playwright.config.mjs`).
//
// No `webServer`: every test file shares one in-process static server (e2e/fixtures.ts, the same
// mounts as scripts/serve-demo.mjs) so tests can read the list of requests it received. Each test
// launches its own Chromium, because the fake-camera clip is a launch flag.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: '.',
  testMatch: '**/*.e2e.ts',
  // Two cores: one browser at a time, tests in file order.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // WebGPU runs on SwiftShader (a CPU); its first inference alone takes tens of seconds here.
  timeout: 240_000,
  expect: { timeout: 10_000 },
  globalTimeout: 20 * 60_000,
  outputDir: '../.cache/e2e-results',
  reporter: [['list']],
});
