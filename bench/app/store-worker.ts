/**
 * The package's own worker, hosted by the bench page (openStateStore's `worker` option) so that the
 * bench can read its wasm heap without touching the package: WebAssembly.Memory is wrapped before the
 * worker module loads the engine, and the size is answered on a BroadcastChannel under the worker's name.
 */
const memories: WebAssembly.Memory[] = [];
const Original = WebAssembly.Memory;
(WebAssembly as { Memory: typeof WebAssembly.Memory }).Memory = new Proxy(Original, {
  construct(target, args) {
    const memory = Reflect.construct(target, args) as WebAssembly.Memory;
    memories.push(memory);
    return memory;
  },
});

const channel = new BroadcastChannel('bench-heap');
channel.onmessage = (event: MessageEvent<{ ask: string }>) => {
  if (event.data.ask !== self.name) return;
  channel.postMessage({ answer: self.name, heapBytes: memories.reduce((sum, m) => sum + m.buffer.byteLength, 0) });
};

await import('agent-state-store/worker');
export {};
