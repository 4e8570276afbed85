import { expect } from '@playwright/test';
import type { BrowserDriver } from '../driver.js';

// A real LangGraph StateGraph with StateStoreSaver on OPFS (test/e2e/app/langgraph.ts): it runs until it
// pauses, the page reloads, the thread resumes from its stored checkpoint, and its history is listed
// and replayed from an earlier step. Shared by test/e2e/langgraph.spec.ts and test/browsers/langgraph.spec.ts.
export async function resumeAfterReload(driver: BrowserDriver): Promise<void> {
  const tab = await driver.newTab('/langgraph.html');
  const store = `langgraph-${crypto.randomUUID()}`;
  const thread = 'trip-1';

  const started = await tab.evaluate(([s, t]) => window.langgraph.startTrip(s, t, 'Lisbon'), [store, thread] as const);
  expect(started).toEqual({ values: { city: 'Lisbon', log: ['plan Lisbon', 'book Lisbon'] }, next: ['report'], vfs: 'opfs-sahpool' });

  await tab.reload();

  const resumed = await tab.evaluate(([s, t]) => window.langgraph.resumeTrip(s, t), [store, thread] as const);
  expect(resumed.paused).toEqual({ values: { city: 'Lisbon', log: ['plan Lisbon', 'book Lisbon'] }, next: ['report'] });
  expect(resumed.values).toEqual({ city: 'Lisbon', log: ['plan Lisbon', 'book Lisbon', 'report after 2 steps'] });

  const history = await tab.evaluate(([s, t]) => window.langgraph.tripHistory(s, t), [store, thread] as const);
  expect(history.map((h) => [h.step, h.next, h.log])).toEqual([
    [3, [], ['plan Lisbon', 'book Lisbon', 'report after 2 steps']],
    [2, ['report'], ['plan Lisbon', 'book Lisbon']],
    [1, ['book'], ['plan Lisbon']],
    [0, ['plan'], []],
    [-1, ['__start__'], []],
  ]);
  // Each checkpoint's parent is the one before it.
  expect(history.map((h) => h.parentId)).toEqual([...history.slice(1).map((h) => h.checkpointId), null]);

  // Back to before "book": running from there forks a new branch off that checkpoint (LangGraph
  // first copies it as the fork point, then runs book and pauses before report again).
  const beforeBook = history.find((h) => h.next[0] === 'book')!;
  const replayed = await tab.evaluate(([s, t, id]) => window.langgraph.replayFrom(s, t, id), [store, thread, beforeBook.checkpointId] as const);
  expect(replayed.values).toEqual({ city: 'Lisbon', log: ['plan Lisbon', 'book Lisbon'] });
  expect(replayed.next).toEqual(['report']);
  const after = await tab.evaluate(([s, t]) => window.langgraph.tripHistory(s, t), [store, thread] as const);
  const [booked, fork] = after;
  expect([booked!.next, booked!.log, booked!.parentId]).toEqual([['report'], ['plan Lisbon', 'book Lisbon'], fork!.checkpointId]);
  expect([fork!.next, fork!.log, fork!.parentId]).toEqual([['book'], ['plan Lisbon'], beforeBook.checkpointId]);
  expect(replayed.parentId).toBe(fork!.checkpointId);
  // The first run's branch is still there, untouched.
  expect(after.slice(2)).toEqual(history);
  await tab.close();
}
