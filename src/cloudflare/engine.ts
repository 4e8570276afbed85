import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
// Both are bundled by wrangler (and @cloudflare/vitest-pool-workers, with the CompiledWasm rule) as
// compiled WebAssembly.Modules: workerd refuses to compile wasm from bytes at run time.
import sqliteWasm from '@sqlite.org/sqlite-wasm/sqlite3.wasm';
import trampolines from './trampolines.wasm';
import { oo1Driver, type Oo1Database, type Oo1Engine } from '../driver/oo1.js';
import type { SqlDriver } from '../driver/port.js';

/**
 * sqlite-wasm inside workerd, for what ctx.storage.sql cannot do: build a database file (export) and
 * open one to validate it (import). Only in-memory databases are used; the engine's Worker and OPFS
 * paths need browser APIs workerd lacks and are never reached.
 *
 * Two things stand in the way, and both come down to workerd forbidding wasm code generation:
 * - the engine's wasm arrives as a module import, handed to Emscripten's `instantiateWasm` hook;
 * - sqlite-wasm turns each JS callback it registers (its bootstrap registers a few) into a wasm
 *   function by compiling a one-function module on the spot. Those modules are all alike but for the
 *   signature, so scripts/edge-trampolines.mjs precompiles one module that holds every signature, and
 *   the callbacks are wrapped by instantiating it instead.
 */

/** The sqlite-wasm namespace, as its own types describe it. */
export type EdgeSqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;

type InstantiateWasm = (imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => object;
type WasmFunction = (...args: never[]) => unknown;

const LETTERS: Record<number, string> = { 0x7f: 'i', 0x7e: 'j', 0x7d: 'f', 0x7c: 'd' };
const POINTER_LIKE: Record<string, string> = { p: 'i', P: 'i', s: 'i' };
const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0];

const trampolineKeys = new Set(WebAssembly.Module.exports(trampolines).map((e) => e.name));
const noops = Object.fromEntries([...trampolineKeys].map((key) => [key, () => 0]));

/** A JS function as a wasm function of the signature `key` (`<result>_<params>`, in wasm type letters). */
function wasmFunction(func: WasmFunction, key: string): WasmFunction {
  if (!trampolineKeys.has(key)) {
    throw new Error(`sqlite-wasm on the edge has no precompiled wrapper for a callback of signature ${key}; add it to scripts/edge-trampolines.mjs`);
  }
  const instance = new WebAssembly.Instance(trampolines, { e: { ...noops, [key]: func } });
  return instance.exports[key] as WasmFunction;
}

/** The key of a sqlite-wasm signature string such as "i(pip)" or "vpi". */
function keyOfSignature(sig: string): string {
  const match = /^(\w)\((\w*)\)$/.exec(sig);
  const [result, params] = match ? [match[1]!, match[2]!] : [sig[0]!, sig.slice(1)];
  const letter = (c: string) => POINTER_LIKE[c] ?? c;
  return `${letter(result)}_${[...params].map(letter).join('')}`;
}

function readUleb(bytes: Uint8Array, at: { i: number }): number {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at.i++]!;
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return value;
    shift += 7;
  }
}

/** The signature key of a one-function wrapper module as sqlite-wasm encodes it, or undefined for any other bytes. */
function keyOfWrapperModule(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength < 12 || WASM_HEADER.some((b, i) => bytes[i] !== b) || bytes[8] !== 1) return undefined;
  const at = { i: 9 };
  readUleb(bytes, at);
  if (bytes[at.i++] !== 1 || bytes[at.i++] !== 0x60) return undefined;
  const params = Array.from({ length: readUleb(bytes, at) }, () => LETTERS[bytes[at.i++]!] ?? '?').join('');
  const results = readUleb(bytes, at);
  const result = results === 0 ? 'v' : (LETTERS[bytes[at.i++]!] ?? '?');
  return `${result}_${params}`;
}

/** Stands for a wrapper module while the engine boots: it carries the signature to the Instance call. */
class WrapperModule {
  constructor(readonly key: string) {}
}

/**
 * Runs `boot` with WebAssembly.Module and WebAssembly.Instance answering sqlite-wasm's wrapper modules
 * from the precompiled trampolines; any other bytes go to the real constructors (and are refused, as
 * workerd refuses them anyway). Restored once the engine is up.
 */
async function withPrecompiledWrappers<T>(boot: () => Promise<T>): Promise<T> {
  const wasm = WebAssembly as unknown as { Module: unknown; Instance: unknown };
  const { Module, Instance } = wasm;
  const RealModule = WebAssembly.Module;
  const RealInstance = WebAssembly.Instance;
  wasm.Module = function (bytes: BufferSource) {
    const key = bytes instanceof Uint8Array ? keyOfWrapperModule(bytes) : undefined;
    return key ? new WrapperModule(key) : new (RealModule as unknown as new (bytes: BufferSource) => WebAssembly.Module)(bytes);
  };
  Object.assign(wasm.Module as object, { exports: RealModule.exports, imports: RealModule.imports, customSections: RealModule.customSections });
  wasm.Instance = function (module: WebAssembly.Module | WrapperModule, imports?: WebAssembly.Imports) {
    if (!(module instanceof WrapperModule)) return new RealInstance(module, imports);
    const func = (imports?.['e'] as Record<string, WasmFunction> | undefined)?.['f'];
    if (typeof func !== 'function') throw new TypeError('a sqlite-wasm wrapper module needs e.f');
    return { exports: { f: wasmFunction(func, module.key) } };
  };
  try {
    return await boot();
  } finally {
    wasm.Module = Module;
    wasm.Instance = Instance;
  }
}

// One engine per isolate: instantiating the module costs tens of milliseconds.
let engine: Promise<EdgeSqlite3> | undefined;
let loaded: EdgeSqlite3 | undefined;

/** The engine once loadEdgeEngine() has resolved, for synchronous code; undefined before. */
export function loadedEdgeEngine(): EdgeSqlite3 | undefined {
  return loaded;
}

/**
 * Loads sqlite-wasm once per isolate from the bundled wasm module. Await it before the first
 * synchronous use (a Durable Object does so in its constructor, under blockConcurrencyWhile).
 *
 * @example
 * const sqlite3 = await loadEdgeEngine();
 * const image = memoryDriver(sqlite3);
 */
export function loadEdgeEngine(): Promise<EdgeSqlite3> {
  const instantiateWasm: InstantiateWasm = (imports, receive) => {
    void WebAssembly.instantiate(sqliteWasm, imports).then((instance) => receive(instance, sqliteWasm));
    return {};
  };
  const init = sqlite3InitModule as unknown as (config: object) => Promise<EdgeSqlite3>;
  // The bootstrap tries the OPFS VFSes, which workerd lacks, and warns about each; the engine reads
  // (and deletes) this global config when it boots.
  const global = globalThis as { sqlite3ApiConfig?: object };
  global.sqlite3ApiConfig ??= { warn: () => {} };
  engine ??= withPrecompiledWrappers(() => init({ print: () => {}, printErr: () => {}, instantiateWasm })).then((sqlite3) => {
    const wasm = sqlite3.wasm as unknown as { jsFuncToWasm: (func: unknown, sig: unknown) => WasmFunction };
    // Callbacks registered later (user functions, hooks) take the same precompiled path.
    wasm.jsFuncToWasm = (func, sig) => (typeof func === 'string' ? wasmFunction(sig as WasmFunction, keyOfSignature(func)) : wasmFunction(func as WasmFunction, keyOfSignature(String(sig))));
    (sqlite3 as unknown as { config: { warn: () => void } }).config.warn = () => {};
    loaded = sqlite3;
    return sqlite3;
  });
  engine.catch(() => {
    engine = undefined;
  });
  return engine;
}

/** A new, empty in-memory sqlite-wasm database behind the SqlDriver port (the engine must be loaded). */
export function memoryDriver(sqlite3: EdgeSqlite3): SqlDriver {
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  return oo1Driver(sqlite3 as unknown as Oo1Engine, db as unknown as Oo1Database);
}
