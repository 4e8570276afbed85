/**
 * The cold-start probe: `?seed=N` fills a store, `?cold=1` times one cold start in a fresh page
 * (dynamic import → openStateStore → first listThreads → getBranch), with the worker's marks when
 * `worker=profiled`. The result goes to `window.result`.
 */
const t0 = performance.now();
const params = new URLSearchParams(location.search);
const name = params.get('name') ?? 'profile';
const w = window as unknown as { result?: unknown; error?: string };

async function seed(total: number): Promise<void> {
  const { openStateStore } = await import('agent-state-store');
  const store = await openStateStore({ name, durability: 'relaxed' });
  const threads = Math.max(10, Math.round(total / 1000));
  const ids: string[] = [];
  for (let t = 0; t < threads; t++) ids.push((await store.createThread({ title: `thread ${t}` })).id);
  const text = 'lorem ipsum dolor sit amet '.repeat(8);
  let i = 0;
  const worker = async () => {
    while (i < total) {
      const n = i++;
      await store.appendMessage(ids[n % threads]!, n % 2 ? 'assistant' : 'user', `${n} ${text}`, { n });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const info = await store.info();
  await store.close();
  w.result = { threads, info };
}

async function cold(): Promise<void> {
  const profiled = params.get('worker') === 'profiled';
  const tImport0 = performance.now();
  const { openStateStore } = await import('agent-state-store');
  const tImport = performance.now();
  const worker = profiled ? new Worker(new URL('./profiled-worker.ts', import.meta.url), { type: 'module' }) : undefined;
  const store = await openStateStore({ name, ...(worker ? { worker } : {}) });
  const tOpen = performance.now();
  const threads = await store.listThreads({ limit: 50 });
  const tList = performance.now();
  const branch = threads[0] ? await store.getBranch(threads[0].id) : [];
  const tBranch = performance.now();
  let worker_: unknown = null;
  if (profiled) {
    const channel = new BroadcastChannel('startup-marks');
    worker_ = await new Promise((resolve) => {
      channel.onmessage = (e) => resolve(e.data);
      channel.postMessage('ask');
    });
    channel.close();
  }
  const info = await store.info();
  await store.close();
  w.result = { t0, tImport0, tImport, tOpen, tList, tBranch, threads: threads.length, branch: branch.length, pageOrigin: performance.timeOrigin, worker: worker_, info };
}

(params.has('seed') ? seed(Number(params.get('seed'))) : cold()).catch((e) => {
  w.error = String(e?.stack ?? e);
});
