import type { JobStateRecord } from '../../../src/core/index.js';
import { eq } from '../assert.js';
import { group } from '../harness.js';
import { invalid, job } from './fixtures.js';

group('jobs', (test) => {
  test('upsertJob stores a job that getJob returns with every field', async ({ makeStore }) => {
    const store = await makeStore();
    const j = job('job-1', { name: 'Index the repo ✓', detail: 'file 3 of 9', progress: 33, createdAt: 1_700_000_000, updatedAt: 1_700_000_010 });
    await store.upsertJob(j);
    eq(await store.getJob('job-1'), j);
  });

  test('upsertJob on an existing id overwrites every field', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertJob(job('job-1'));
    const replaced: JobStateRecord = { id: 'job-1', name: 'renamed', status: 'completed', progress: null, detail: null, createdAt: 5, updatedAt: 99 };
    await store.upsertJob(replaced);
    eq(await store.getJob('job-1'), replaced);
    eq((await store.listJobs()).length, 1, 'still one job');
  });

  test('progress may be null, 0 or 100, and detail may be null', async ({ makeStore }) => {
    const store = await makeStore();
    for (const [id, progress] of [['none', null], ['zero', 0], ['full', 100]] as const) {
      await store.upsertJob(job(id, { progress, detail: null }));
      eq(await store.getJob(id), job(id, { progress, detail: null }), id);
    }
  });

  test('every job status is accepted', async ({ makeStore }) => {
    const store = await makeStore();
    for (const status of ['queued', 'running', 'completed', 'failed', 'cancelled'] as const) {
      await store.upsertJob(job(status, { status }));
      eq((await store.getJob(status))?.status, status);
    }
  });

  test('getJob of an unknown id is null', async ({ makeStore }) => {
    const store = await makeStore();
    eq(await store.getJob('missing'), null);
    await invalid(() => store.getJob(''), 'id');
  });

  test('listJobs orders by updatedAt, newest first, and honours a limit', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertJob(job('old', { updatedAt: 100 }));
    await store.upsertJob(job('new', { updatedAt: 300 }));
    await store.upsertJob(job('mid', { updatedAt: 200 }));
    eq((await store.listJobs()).map((j) => j.id), ['new', 'mid', 'old']);
    eq((await store.listJobs(2)).map((j) => j.id), ['new', 'mid']);
    eq((await store.listJobs(1)).map((j) => j.id), ['new']);
    await store.upsertJob(job('old', { updatedAt: 400 }));
    eq((await store.listJobs()).map((j) => j.id), ['old', 'new', 'mid'], 'after an update');
  });

  test('listJobs returns at most 100 jobs by default', async ({ makeStore }) => {
    const store = await makeStore();
    for (let i = 0; i < 105; i++) await store.upsertJob(job(`j${i}`, { updatedAt: 1000 + i }));
    const listed = await store.listJobs();
    eq(listed.length, 100, 'count');
    eq(listed[0]?.id, 'j104', 'newest first');
    eq(listed[99]?.id, 'j5', 'the oldest are left out');
    eq((await store.listJobs(105)).length, 105, 'an explicit limit above the default');
  });

  test('listJobs refuses a limit that is not a positive integer', async ({ makeStore }) => {
    const store = await makeStore();
    for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '5' as never]) {
      await invalid(() => store.listJobs(limit), 'limit');
    }
  });

  test('deleteJob removes a job; deleting a missing one is a no-op', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertJob(job('a'));
    await store.upsertJob(job('b'));
    await store.deleteJob('a');
    eq(await store.getJob('a'), null);
    await store.deleteJob('a');
    await store.deleteJob('missing');
    eq((await store.listJobs()).map((j) => j.id), ['b']);
    await invalid(() => store.deleteJob(''), 'id');
  });

  test('progress outside 0–100 or not an integer is refused', async ({ makeStore }) => {
    const store = await makeStore();
    for (const progress of [-1, 101, 50.5, Number.NaN, Number.POSITIVE_INFINITY, '50' as never]) {
      await invalid(() => store.upsertJob(job('j', { progress })), 'job.progress');
    }
    eq(await store.getJob('j'), null, 'nothing was written');
  });

  test('an invalid upsertJob is refused and leaves the previous job intact', async ({ makeStore }) => {
    const store = await makeStore();
    const original = job('j1');
    await store.upsertJob(original);
    const bad: Array<[string, Partial<JobStateRecord>]> = [
      ['job.id', { id: '' }],
      ['job.id', { id: 9 as never }],
      ['job.status', { status: 'done' as never }],
      ['job.status', { status: undefined as never }],
      ['job.name', { name: null as never }],
      ['job.name', { name: 'a\uD800' }],
      ['job.detail', { detail: 3 as never }],
      ['job.progress', { progress: 101 }],
      ['job.createdAt', { createdAt: 1.5 }],
      ['job.updatedAt', { updatedAt: Number.NaN }],
      ['job.updatedAt', { updatedAt: Number.NEGATIVE_INFINITY }],
    ];
    for (const [field, over] of bad) {
      await invalid(() => store.upsertJob({ ...job('j1', { name: 'replaced' }), ...over }), field);
    }
    await invalid(() => store.upsertJob(null as never), 'job');
    eq(await store.getJob('j1'), original);
    eq((await store.listJobs()).map((j) => j.id), ['j1']);
  });
});
