import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'packages/*/test/**/*.test.mjs', 'src/**/*.test.ts', 'scripts/**/*.test.mjs'],
    environment: 'node',
  },
});
