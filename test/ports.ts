/**
 * The ports of the servers the browser tests and benchmarks start. `PORT_OFFSET` moves them all, so
 * two test runs on one machine (or a run beside a demo you are using) do not share a server.
 */
const offset = Number(process.env['PORT_OFFSET'] ?? 0);

export const PORTS = {
  /** The test app, production build (vite preview). */
  e2ePreview: 4173 + offset,
  /** The test app, dev server. (Test ports sit within 100 of each other, so offsets in steps of 1000 never collide.) */
  e2eDev: 4174 + offset,
  /**
   * The demo, production build, for its tests. Not 4190: that is ManageSieve's port, on the Fetch
   * standard's list of bad ports, and Firefox refuses to open it (deniedPortAccess).
   */
  demoPreview: 4191 + offset,
  /** The README's React chat, built from the README's own blocks (test/e2e/readme-chat.spec.ts). */
  readmeChat: 4193 + offset,
  /** The demo dev server (`npm run demo`). */
  demoDev: 5190 + offset,
  /** The round-trip test Worker under wrangler's local workerd (test/e2e/edge-roundtrip.spec.ts). */
  edgeRoundTrip: 4196 + offset,
  /** The sync suite's server: the test sync Worker under wrangler's local workerd (test/sync/harness.ts). */
  syncServer: 4197 + offset,
  /** The sync server `npm run demo:sync` starts (wrangler dev), beside the demo's dev server. */
  demoSyncServer: 5197 + offset,
  /** The benchmark page. */
  bench: 4200 + offset,
  /** WebKitWebDriver of the WebKit run (playwright.browsers.config.ts); each Playwright worker adds its index. */
  webkitDriver: 4210 + offset,
};

/** http://localhost:<port> */
export const url = (port: number): string => `http://localhost:${port}`;

/** A Playwright web server: `vite build` then `vite preview` of one app's config, on its port. */
export function previewServer(config: string, port: number) {
  return {
    command: `npx vite build --config ${config} --logLevel warn && npx vite preview --config ${config}`,
    url: url(port),
    reuseExistingServer: !process.env['CI'],
    timeout: 120_000,
  };
}
