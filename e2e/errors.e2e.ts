/**
 * Typed errors where the cause is the page's set-up, not the SDK: a Content-Security-Policy that
 * forbids WebAssembly (a relative asset base without a base URL: unit test create-errors.test.ts).
 */
import { PROJECT_CLIPS, call, expect, test } from './fixtures';

test("a CSP without 'wasm-unsafe-eval' gives csp-blocks-wasm naming the directive", async ({ openPage, uncaughtErrors }) => {
  const page = await openPage(PROJECT_CLIPS.face, { path: '/e2e/csp.html' });
  const result = await call(page, 'tryCreate');
  test.info().annotations.push({ type: 'measured', description: JSON.stringify(result) });
  expect(result).toMatchObject({ name: 'FaceStylizerError', code: 'csp-blocks-wasm', isFaceStylizerError: true });
  expect(result.message).toContain("'wasm-unsafe-eval'");
  expect(uncaughtErrors).toEqual([]);
});
