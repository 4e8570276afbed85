import type { JobStateRecord, JobStatus } from 'agent-state-store';
import { nowSeconds, type App } from './app.js';
import { consume, h, panel, timeLabel } from './dom.js';
import { statusBadge } from './threads-panel.js';

const TICK_MS = 300;
const STEPS = ['Scanning files', 'Parsing', 'Embedding chunks', 'Writing the index', 'Verifying'];

/**
 * Simulated background jobs: each one running in this page advances on a timer and writes its
 * progress with upsertJob; it can be cancelled or failed, or left to complete. A job found running
 * after a reload has no timer any more and can be resumed from its stored progress.
 */
export function jobsPanel(app: App): HTMLElement {
  const timers = new Map<string, ReturnType<typeof setInterval>>();
  const name = h('input', { type: 'text', name: 'job', 'aria-label': 'Job name', placeholder: 'Index workspace', maxlength: 80 });
  const list = h('ul', { class: 'job-list', 'aria-label': 'Recent jobs' });

  async function write(job: JobStateRecord, patch: Partial<JobStateRecord>): Promise<JobStateRecord> {
    const next = { ...job, ...patch, updatedAt: Math.max(nowSeconds(), job.updatedAt) };
    await app.store.upsertJob(next);
    return next;
  }

  function drive(job: JobStateRecord): void {
    let state = job;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void app
        .run(async () => {
          const progress = Math.min(100, (state.progress ?? 0) + 4 + Math.floor(Math.random() * 8));
          const done = progress >= 100;
          const step = STEPS[Math.min(STEPS.length - 1, Math.floor((progress / 100) * STEPS.length))];
          state = await write(state, { status: done ? 'completed' : 'running', progress, detail: done ? 'Done' : `${step}…` });
          if (done) stopDriving(job.id);
          await app.changed(done ? 'storage' : 'jobs', 'jobs');
        })
        .finally(() => (busy = false));
    }, TICK_MS);
    timers.set(job.id, timer);
  }

  function stopDriving(id: string): void {
    clearInterval(timers.get(id));
    timers.delete(id);
  }

  async function start(): Promise<void> {
    const now = nowSeconds();
    const job = await consume(name, async (typed) => {
      const created: JobStateRecord = { id: crypto.randomUUID(), name: typed || 'Index workspace', status: 'running', progress: 0, detail: 'Queued…', createdAt: now, updatedAt: now };
      await app.store.upsertJob(created);
      return created;
    });
    drive(job);
    await app.changed('jobs');
  }

  async function end(job: JobStateRecord, status: JobStatus): Promise<void> {
    stopDriving(job.id);
    const fresh = (await app.store.getJob(job.id)) ?? job;
    await write(fresh, { status, detail: status === 'failed' ? `Failed at ${fresh.progress ?? 0}%: simulated error` : `Cancelled at ${fresh.progress ?? 0}%` });
    await app.changed('jobs', 'storage');
  }

  /** One job's row; its parts are updated in place, so a button is never replaced under the pointer. */
  interface Row {
    element: HTMLLIElement;
    badge: HTMLElement;
    bar: HTMLProgressElement;
    meta: HTMLElement;
    actions: HTMLElement;
    actionsFor: string;
  }
  const rows = new Map<string, Row>();

  function actionsOf(job: JobStateRecord): HTMLElement[] {
    const active = job.status === 'running' || job.status === 'queued';
    const key = `job-${job.id}`;
    if (!active) return [h('button', { type: 'button', 'data-key': `${key}-remove`, text: 'Remove', onclick: () => app.run(async () => (await app.store.deleteJob(job.id), app.changed('jobs'))) })];
    return [
      timers.has(job.id) ? null : h('button', { type: 'button', 'data-key': `${key}-resume`, text: 'Resume', onclick: () => (drive(job), app.changed('jobs')) }),
      h('button', { type: 'button', 'data-key': `${key}-cancel`, text: 'Cancel', onclick: () => app.run(() => end(job, 'cancelled')) }),
      h('button', { type: 'button', class: 'danger', 'data-key': `${key}-fail`, text: 'Fail', onclick: () => app.run(() => end(job, 'failed')) }),
    ].filter((b): b is HTMLButtonElement => b !== null);
  }

  function row(job: JobStateRecord): HTMLLIElement {
    let r = rows.get(job.id);
    if (!r) {
      const badge = h('span');
      const bar = h('progress', { max: 100, 'aria-label': `Progress of ${job.name}` });
      const meta = h('div', { class: 'job-meta' });
      const actions = h('div', { class: 'actions' });
      const element = h('li', { class: 'job' }, h('div', { class: 'job-head' }, h('strong', { class: 'job-name', text: job.name }), badge), bar, meta, actions);
      r = { element, badge, bar, meta, actions, actionsFor: '' };
      rows.set(job.id, r);
    }
    r.element.dataset['status'] = job.status;
    r.badge.replaceWith((r.badge = statusBadge(job.status)));
    r.bar.value = job.progress ?? 0;
    const running = job.status === 'running' || job.status === 'queued';
    r.meta.replaceChildren(h('span', { text: running ? `${job.progress ?? 0}% · ${job.detail ?? ''}` : (job.detail ?? job.status) }), timeLabel(job.updatedAt));
    // Buttons change only with the status (or whether this page drives the job), not with progress.
    const actionsFor = `${job.status}:${timers.has(job.id)}`;
    if (r.actionsFor !== actionsFor) {
      r.actionsFor = actionsFor;
      r.actions.replaceChildren(...actionsOf(job));
    }
    return r.element;
  }

  async function render(): Promise<void> {
    const jobs = await app.store.listJobs(12);
    for (const id of rows.keys()) if (!jobs.some((j) => j.id === id)) rows.delete(id);
    // listJobs orders by last update, which would make a running job jump on every tick; newest first is calmer.
    const seen = [...rows.keys()];
    const rank = (id: string) => (seen.includes(id) ? seen.indexOf(id) : Infinity);
    jobs.sort((a, b) => b.createdAt - a.createdAt || rank(b.id) - rank(a.id));
    const items = jobs.length > 0 ? jobs.map(row) : [h('li', { class: 'empty', text: 'No jobs yet.' })];
    // Move only what is out of place: re-inserting a focused row would take its focus away.
    items.forEach((item, i) => {
      if (list.children[i] !== item) list.insertBefore(item, list.children[i] ?? null);
    });
    while (list.children.length > items.length) list.lastElementChild?.remove();
  }

  app.on(['jobs'], render);
  return panel(
    'jobs',
    'Jobs',
    h('form', { class: 'row', onsubmit: (e: SubmitEvent) => (e.preventDefault(), void app.run(start)) }, name, h('button', { type: 'submit', text: 'Start job' })),
    list,
  );
}
