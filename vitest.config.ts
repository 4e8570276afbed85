import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // CI sums the counts from this report (both projects); people read the default reporter.
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: 'test-results/unit.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', testTimeout: 60_000 },
      },
      {
        // LangGraph's checkpointer validation suite calls describe/it/expect as globals.
        extends: true,
        test: { name: 'langgraph', include: ['test/langgraph/**/*.test.ts'], environment: 'node', globals: true, testTimeout: 60_000 },
      },
    ],
  },
});
