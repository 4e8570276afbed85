// Database files imported by the edge tests arrive as ArrayBuffers (the Data modules rule in vitest.config.ts).
declare module '*.db' {
  const bytes: ArrayBuffer;
  export default bytes;
}
