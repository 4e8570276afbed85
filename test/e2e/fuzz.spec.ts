import { STORE_ERROR_CODES, createFuzzer, describeCall } from '../fuzz/hostile.js';
import { fromBase64, invariantProblems, rows, storedContent, withImage } from '../fuzz/invariants.js';
import { expect, test } from './fixtures.js';

/**
 * 10,000 random calls with hostile arguments through the worker on OPFS, with the same generators as
 * test/unit/fuzz.test.ts (shipped to the page as source). Each call must settle within 10 s, as a
 * value or as a StoreError with one of the ten codes; afterwards the database must be whole. The seed
 * is printed; replay with FUZZ_SEED=<seed>.
 */

const SEED = process.env['FUZZ_SEED'] === undefined ? (Math.random() * 2 ** 32) >>> 0 : Number(process.env['FUZZ_SEED']) >>> 0;
const CALLS = 10_000;
const CHUNK = 500; // calls per page.evaluate
const BATCH = 20; // calls in flight at once, so that the group commit batches them
const HANG_MS = 10_000;

interface ChunkResult {
  histogram: Record<string, number>;
  violations: string[];
  storage: string[];
  methods: string[];
}

test('10,000 hostile calls through the worker each settle as a value or a StoreError with a known code, and leave a sound database', async ({ app }) => {
  test.setTimeout(600_000);
  test.info().annotations.push({ type: 'seed', description: String(SEED) });
  console.log(`fuzz (browser) seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
  // Shipped as source text: the generators are self-contained functions (see test/fuzz/hostile.ts).
  await app.evaluate(`window.__fuzzLib = { createFuzzer: (${createFuzzer.toString()}), describeCall: (${describeCall.toString()}) }`);
  const setup = await app.evaluate(async (seed) => {
    const w = window as unknown as Record<string, any>;
    const store = await window.openStateStore({ name: `fuzz-${crypto.randomUUID()}` });
    const methods = Object.keys(store).filter((m) => m !== 'close');
    w['__fuzz'] = { store, methods, fuzzer: w['__fuzzLib'].createFuzzer(seed, methods, 'browser') };
    return { methods, unknown: w['__fuzz'].fuzzer.unknownMethods as string[] };
  }, SEED);
  expect(setup.unknown, 'store methods the fuzzer has no generator for').toEqual([]);

  const histogram: Record<string, number> = {};
  const violations: string[] = [];
  const storage: string[] = [];
  const called = new Set<string>();
  const started = Date.now();
  for (let done = 0; done < CALLS; done += CHUNK) {
    const result: ChunkResult = await app.evaluate(
      async ({ count, batch, hangMs, codes, offset }) => {
        const w = window as unknown as Record<string, any>;
        const { store, fuzzer } = w['__fuzz'];
        const describe: (call: unknown) => string = w['__fuzzLib'].describeCall;
        const out: ChunkResult = { histogram: {}, violations: [], storage: [], methods: [] };
        // Messages of JavaScript's own TypeErrors: an input reached code that never checked it.
        const unchecked = /Cannot read properties|is not a function|is not iterable|Cannot convert|Maximum call stack/;
        const runOne = async (call: { method: string; args: unknown[] }, n: number) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const hung = new Promise<'hung'>((resolve) => {
            timer = setTimeout(() => resolve('hung'), hangMs);
          });
          const attempt = Promise.resolve()
            .then(() => store[call.method](...call.args))
            .then(
              (value: unknown) => ({ ok: true as const, value }),
              (error: unknown) => ({ ok: false as const, error }),
            );
          const settled = await Promise.race([attempt, hung]);
          clearTimeout(timer);
          let key: string;
          if (settled === 'hung') {
            key = 'HUNG';
            out.violations.push(`#${n} ${describe(call)} did not settle within ${hangMs / 1000} s`);
          } else if (settled.ok) {
            key = 'ok';
            fuzzer.observe(call, { ok: true, value: settled.value });
          } else {
            const e = settled.error as { code?: unknown; message?: unknown; name?: unknown };
            if (!(settled.error instanceof window.StoreError) || !codes.includes(String(e.code))) {
              key = 'RAW';
              out.violations.push(`#${n} ${describe(call)} rejected with a non-StoreError ${String(e?.name)}: ${String(e?.message)}`);
            } else {
              key = String(e.code);
              if (unchecked.test(String(e.message))) out.violations.push(`#${n} ${describe(call)} failed inside the store: ${String(e.message)}`);
              else if (key === 'STORAGE' && out.storage.length < 5) out.storage.push(`#${n} ${describe(call)}: ${String(e.message)}`);
            }
            fuzzer.observe(call, { ok: false, code: key });
          }
          out.histogram[key] = (out.histogram[key] ?? 0) + 1;
        };
        for (let i = 0; i < count; i += batch) {
          const calls = Array.from({ length: Math.min(batch, count - i) }, () => fuzzer.next());
          for (const c of calls) if (!out.methods.includes(c.method)) out.methods.push(c.method);
          await Promise.all(calls.map((c: { method: string; args: unknown[] }, j: number) => runOne(c, offset + i + j)));
        }
        return out;
      },
      { count: Math.min(CHUNK, CALLS - done), batch: BATCH, hangMs: HANG_MS, codes: [...STORE_ERROR_CODES], offset: done },
    );
    for (const [k, n] of Object.entries(result.histogram)) histogram[k] = (histogram[k] ?? 0) + n;
    violations.push(...result.violations);
    storage.push(...result.storage);
    result.methods.forEach((m) => called.add(m));
  }
  console.log(`fuzz (browser) seed ${SEED}: ${CALLS} calls in ${Date.now() - started} ms; outcomes ${JSON.stringify(histogram)}`);
  if (storage.length > 0) console.log(`STORAGE samples:\n  ${storage.slice(0, 10).join('\n  ')}`);

  const final = await app.evaluate(async () => {
    const w = window as unknown as Record<string, any>;
    const { store, fuzzer } = w['__fuzz'];
    const integrity = await store.integrityCheck();
    const bytes: Uint8Array = await store.exportDatabase();
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    const written = [...(fuzzer.written as Map<number, string>)];
    await store.close();
    return { integrity, image: btoa(binary), written };
  });

  expect(violations, `seed ${SEED}: calls that hung, or failed with something other than a StoreError with a known code`).toEqual([]);
  expect(histogram['ok'] ?? 0, `seed ${SEED}: successful calls`).toBeGreaterThan(CALLS / 10);
  expect(histogram['INVALID_ARGUMENT'] ?? 0, `seed ${SEED}: INVALID_ARGUMENT`).toBeGreaterThan(CALLS / 4);
  expect(setup.methods.filter((m) => !called.has(m)), `seed ${SEED}: methods never called`).toEqual([]);
  expect(final.integrity, `seed ${SEED}`).toEqual({ ok: true, problems: [] });
  await withImage(fromBase64(final.image), (db) => {
    expect(invariantProblems(db), `seed ${SEED}`).toEqual([]);
    const counts = rows(db, 'SELECT (SELECT count(*) FROM threads) AS threads, (SELECT count(*) FROM messages) AS messages');
    console.log(`fuzz (browser) seed ${SEED}: the store ends with ${JSON.stringify(counts[0])}`);
    const changed = final.written.filter(([id, content]) => {
      const found = storedContent(db, id);
      return found !== undefined && found !== content;
    });
    expect(changed.map(([id]) => id), `seed ${SEED}: messages whose content changed`).toEqual([]);
  });
});
