import type { BenchPage } from './types.js';

declare global {
  interface Window {
    bench: BenchPage;
  }
}
