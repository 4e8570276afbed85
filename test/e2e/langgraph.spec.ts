import * as langgraph from '../browsers/bodies/langgraph.js';
import { playwrightDriver } from '../browsers/playwright-driver.js';
import { PORTS, url } from '../ports.js';
import { test } from './fixtures.js';

// The body is shared with Firefox (test/browsers/bodies/langgraph.ts).
test('a LangGraph graph resumes after a reload from its checkpoint on OPFS, and travels back in time', async ({ profile }) => {
  await langgraph.resumeAfterReload(playwrightDriver(profile, url(PORTS.e2ePreview)));
});
