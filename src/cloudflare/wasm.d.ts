/** `.wasm` imports, which wrangler and vitest-pool-workers turn into compiled modules. */
declare module '@sqlite.org/sqlite-wasm/sqlite3.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
