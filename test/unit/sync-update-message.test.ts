import { describe, expect, it } from 'vitest';
import { dump, newDevice, newServer, session, settle, thread } from '../support/sync-loop.js';

/**
 * updateMessage under sync: no sync code of its own. The capture triggers record the columns it
 * changed, and the server merges them one by one, last writer (in the server's order) wins.
 */
describe('updateMessage syncs last-writer-wins per column', () => {
  it('two devices that update different columns of one message both keep their change; of two content updates the later push wins', async () => {
    const server = await newServer();
    const a = await newDevice();
    const b = await newDevice();
    a.store.upsertThread(thread('t'));
    const m = a.store.addMessage('t', { role: 'assistant', content: 'calling the weather tool', item: { tool: 'input-available' } });
    settle(server, a, b);
    // Offline, each changes one column: A the text, B the item (the tool's output).
    a.store.updateMessage(m.id, { content: 'Lisbon: 21 °C' });
    b.store.updateMessage(m.id, { item: { tool: 'output-available', output: 21 } });
    settle(server, a, b);
    for (const s of [a, b, server]) {
      expect(s.store.listThreadMessages('t').map((x) => [x.id, x.content, x.item])).toEqual([[m.id, 'Lisbon: 21 °C', { tool: 'output-available', output: 21 }]]);
    }
    // Both change the text; B pushes after A, so B's wins everywhere.
    a.store.updateMessage(m.id, { content: 'from A' });
    b.store.updateMessage(m.id, { content: 'from B' });
    session(server, a);
    session(server, b);
    settle(server, a, b);
    for (const s of [a, b, server]) expect(s.store.listThreadMessages('t')[0]?.content).toBe('from B');
    expect(await dump(a)).toEqual(await dump(b));
  });
});
