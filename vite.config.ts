import { defineConfig, type Plugin } from 'vite';

const WORKER_URL = "new URL('./worker.js', import.meta.url)";
// As long as the URL expression, so no column moves and the source maps stay exact.
const PLACEHOLDER = '__agent_state_store_worker_url'.padEnd(WORKER_URL.length, '_');

/**
 * Keeps `new Worker(new URL('./worker.js', import.meta.url))` in dist/index.js as written. Vite would
 * otherwise bundle (and in library mode inline) the worker at our build; leaving it literal lets the
 * consumer's bundler see a standard worker reference to dist/worker.js and bundle it with the engine.
 */
function keepWorkerUrl(): Plugin {
  return {
    name: 'agent-state-store:keep-worker-url',
    enforce: 'pre',
    transform(code) {
      return code.includes(WORKER_URL) ? { code: code.replace(WORKER_URL, PLACEHOLDER), map: null } : null;
    },
    renderChunk(code) {
      return code.includes(PLACEHOLDER) ? { code: code.replace(PLACEHOLDER, WORKER_URL), map: null } : null;
    },
  };
}

/**
 * The library build: seven entries (`.`, `./core`, `./worker`, `./react`, `./ai-sdk`, `./langgraph`, `./vite`) as
 * ES modules in dist/. The engine, the small runtime dependencies and the optional peers (React, `ai`,
 * LangGraph) stay external, so the consumer's bundler resolves them (the AI SDK entry uses only
 * `ai`'s types, so it imports nothing of it).
 */
export default defineConfig({
  plugins: [keepWorkerUrl()],
  build: {
    outDir: 'dist',
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: {
      entry: {
        index: 'src/index.ts',
        core: 'src/core.ts',
        worker: 'worker/index.ts',
        react: 'src/react/index.ts',
        'ai-sdk': 'src/ai-sdk/index.ts',
        langgraph: 'src/langgraph/index.ts',
        vite: 'src/vite/index.ts',
      },
      formats: ['es'],
    },
    rolldownOptions: {
      external: [/^@sqlite\.org\/sqlite-wasm/, 'comlink', 'idb-keyval', /^react(\/|$)/, /^ai($|\/)/, /^@langchain\//],
      output: { chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});
