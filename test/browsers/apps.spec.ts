import { PORTS, url } from '../ports.js';
import * as demo from './bodies/demo.js';
import * as langgraph from './bodies/langgraph.js';
import * as react from './bodies/react.js';
import { test } from './fixtures.js';

// The integrations and the demo, shared with the Chromium suite (react.spec.ts, langgraph.spec.ts, demo-smoke.spec.ts).
test('a LangGraph graph resumes after a reload from its checkpoint on OPFS, and travels back in time', async ({ driver }) => {
  await langgraph.resumeAfterReload(driver);
});
test("the React hooks render the store and follow another tab's writes", async ({ driver }) => {
  await react.hooksFollowAnotherTab(driver);
});
test('demo smoke: a new chat, a message, the streamed reply stored complete, both there after a reload', async ({ driver }) => {
  await demo.demoSmoke(driver, url(PORTS.demoPreview));
});
