import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';

it('runs inside workerd with a SQLite-backed Durable Object', async () => {
  const stub = env.STORES.get(env.STORES.idFromName('pool'));
  expect(await stub.ping()).toBe(2);
  expect((globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent).toBe('Cloudflare-Workers');
});
