import { defineConfig } from 'vitest/config';

/** `npm run bench:sync-sizes`: what the sync server keeps (log entries, tombstones) before and after collection, in Node. */
export default defineConfig({
  test: { include: ['bench/sync/*.bench-run.ts'], testTimeout: 600_000 },
});
