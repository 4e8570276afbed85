import { defineConfig } from 'vitest/config';

// `npm run bench:langgraph`: the LangGraph storage bench, in Node on the real engine (sqlite-wasm).
export default defineConfig({
  test: { include: ['bench/langgraph/*.bench-run.ts'], environment: 'node', testTimeout: 1_800_000 },
});
