// Builds src/cloudflare/trampolines.wasm: one small WebAssembly module that imports a JS function of
// each signature sqlite-wasm installs into its function table, and exports it back as a wasm function.
// sqlite-wasm makes such a wrapper by compiling a tiny module at run time, which workerd forbids
// ("Wasm code generation disallowed by embedder"); the edge engine instantiates this precompiled
// module instead (src/cloudflare/engine.ts). Run: node scripts/edge-trampolines.mjs
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Wasm value types by signature letter (a key is `<result>_<params>`, see engine.ts). */
const TYPES = { i: 0x7f, j: 0x7e, f: 0x7d, d: 0x7c };

/**
 * The signatures sqlite-wasm uses (in its source and in its VFS and virtual-table structs, whose file
 * offsets are i64), plus every all-i32 one up to 10 parameters, for callbacks apps add.
 */
export function trampolineKeys() {
  const keys = new Set(['v_iiiiijj', 'v_iiiij']);
  for (const result of ['v', 'i', 'j', 'd']) for (let n = 0; n <= 10; n++) keys.add(`${result}_${'i'.repeat(n)}`);
  // Every mix of i32 and i64 parameters up to 5, returning i32 or nothing.
  for (let n = 1; n <= 5; n++) {
    for (let mask = 0; mask < 1 << n; mask++) {
      const params = Array.from({ length: n }, (_, bit) => (mask & (1 << bit) ? 'j' : 'i')).join('');
      keys.add(`i_${params}`);
      keys.add(`v_${params}`);
    }
  }
  return [...keys].sort();
}

function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const name = (text) => [...uleb(text.length), ...new TextEncoder().encode(text)];
const section = (id, body) => [id, ...uleb(body.length), ...body];
const vector = (items) => [...uleb(items.length), ...items.flat()];

/** The module: type i is key i's function type; import e.<key> has type i; export <key> is import i. */
export function trampolineModule(keys) {
  const types = keys.map((key) => {
    const [result, params] = key.split('_');
    return [0x60, ...vector([...params].map((p) => [TYPES[p]])), ...(result === 'v' ? [0] : [1, TYPES[result]])];
  });
  const imports = keys.map((key, i) => [...name('e'), ...name(key), 0x00, ...uleb(i)]);
  const exports = keys.map((key, i) => [...name(key), 0x00, ...uleb(i)]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, vector(types)), ...section(2, vector(imports)), ...section(7, vector(exports))]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = fileURLToPath(new URL('../src/cloudflare/trampolines.wasm', import.meta.url));
  const keys = trampolineKeys();
  const bytes = trampolineModule(keys);
  new WebAssembly.Module(bytes); // throws if the encoding is wrong
  writeFileSync(target, bytes);
  console.log(`${target}: ${keys.length} signatures, ${bytes.byteLength} bytes`);
}
