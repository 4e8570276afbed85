import * as demo from '../browsers/bodies/demo.js';
import { playwrightDriver } from '../browsers/playwright-driver.js';
import { PORTS, url } from '../ports.js';
import { test } from './fixtures.js';

// The demo smoke test that Firefox runs too (test/browsers/apps.spec.ts).
test('demo smoke: a new chat, a message, the streamed reply stored complete, both there after a reload', async ({ profile }) => {
  await demo.demoSmoke(playwrightDriver(profile, url(PORTS.e2ePreview)), url(PORTS.demoPreview));
});
