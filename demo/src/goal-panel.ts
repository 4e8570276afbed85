import type { ThreadGoalRecord, ThreadGoalStatus } from 'agent-state-store';
import { replyTo } from './agent-run.js';
import { nowSeconds, type App } from './app.js';
import { consume, h, panel } from './dom.js';

const STATUSES: ThreadGoalStatus[] = ['active', 'paused', 'blocked', 'usage_limited', 'budget_limited', 'complete'];
const number = new Intl.NumberFormat('en');

/**
 * The selected thread's goal: its objective, a token-budget meter that the agent's replies move
 * (recordThreadGoalUsage), a continuation count (recordThreadGoalContinuation: "keep going" without a
 * new user message), the status, and a form to set a new goal.
 */
export function goalPanel(app: App): HTMLElement {
  const current = h('div', { class: 'goal-current' });
  const objective = h('input', { type: 'text', name: 'objective', 'aria-label': 'Objective', placeholder: 'e.g. Ship the demo', maxlength: 200, required: true });
  const budget = h('input', { type: 'number', name: 'budget', 'aria-label': 'Token budget', min: 1, step: 1, value: '2000', inputmode: 'numeric' });
  const formTitle = h('p', { class: 'goal-form-title', text: 'Replace it with a new goal (usage starts again at zero):' });
  const submit = h('button', { type: 'submit', text: 'Set goal' });
  const form = h(
    'form',
    { class: 'goal-form', onsubmit: (e: SubmitEvent) => (e.preventDefault(), void app.run(setGoal)) },
    formTitle,
    h('label', { class: 'field' }, 'Objective', objective),
    h('label', { class: 'field' }, 'Token budget', budget),
    submit,
  );
  const body = h('div', {}, current, form);
  const empty = h('p', { class: 'empty', text: 'Select a thread to give it a goal.' });

  async function setGoal(): Promise<void> {
    const threadId = app.selectedThreadId;
    if (!threadId || !objective.value.trim()) return;
    const limit = budget.value === '' ? null : Number(budget.value);
    const now = nowSeconds();
    await consume(objective, (text) => app.store.upsertThreadGoal({
      threadId,
      goalId: crypto.randomUUID(),
      objective: text,
      status: 'active',
      tokenBudget: limit,
      tokensUsed: 0,
      timeUsedSeconds: 0,
      continuationCount: 0,
      createdAt: now,
      updatedAt: now,
    }));
    await app.changed('goal');
  }

  async function cont(goal: ThreadGoalRecord): Promise<void> {
    const thread = await app.store.getThread(goal.threadId);
    if (!thread?.currentLeafId) return;
    await app.store.recordThreadGoalContinuation(goal.threadId, nowSeconds());
    await app.changed('goal');
    await replyTo(app, goal.threadId, { parentId: thread.currentLeafId, prompt: `Continue toward the goal: ${goal.objective}` });
  }

  // Built once and updated in place: the meter moves several times a second while the agent streams,
  // and re-creating the controls would steal focus and swallow clicks.
  let shown: ThreadGoalRecord | null = null;
  const objectiveText = h('p', { class: 'objective' });
  const meterBar = h('meter', { id: 'goal-meter', min: 0, optimum: 0, 'aria-label': 'Token budget used' });
  const usage = h('span', { class: 'meter-text', 'data-testid': 'goal-usage' });
  const timeUsed = h('dd');
  const continuations = h('dd', { 'data-testid': 'goal-continuations' });
  const status = h(
    'select',
    {
      'aria-label': 'Goal status',
      onchange: () =>
        app.run(async () => {
          const fresh = shown && (await app.store.getThreadGoal(shown.threadId));
          if (!fresh) return;
          await app.store.upsertThreadGoal({ ...fresh, status: status.value as ThreadGoalStatus, updatedAt: Math.max(nowSeconds(), fresh.updatedAt) });
          await app.changed('goal');
        }),
    },
    ...STATUSES.map((s) => h('option', { value: s, text: s.replace('_', ' ') })),
  );
  const goalView = h(
    'div',
    { class: 'goal-view' },
    objectiveText,
    h('div', { class: 'meter' }, meterBar, usage),
    h('dl', { class: 'facts' }, h('dt', { text: 'Time used' }), timeUsed, h('dt', { text: 'Continuations' }), continuations),
    h(
      'div',
      { class: 'actions' },
      h('label', { class: 'inline' }, 'Status ', status),
      h('button', { type: 'button', text: 'Continue', title: 'Let the agent keep going without a new message', onclick: () => shown && app.run(() => cont(shown!)) }),
      h('button', { type: 'button', class: 'danger', text: 'Remove goal', onclick: () => shown && app.run(async () => (await app.store.deleteThreadGoal(shown!.threadId), app.changed('goal'))) }),
    ),
  );
  const noGoal = h('p', { class: 'empty', text: 'No goal yet.' });
  current.append(goalView, noGoal);

  function show(goal: ThreadGoalRecord | null): void {
    shown = goal;
    goalView.hidden = !goal;
    noGoal.hidden = !!goal;
    formTitle.hidden = !goal;
    submit.textContent = goal ? 'Replace goal' : 'Set goal';
    if (!goal) return;
    objectiveText.textContent = goal.objective;
    const limit = goal.tokenBudget;
    meterBar.hidden = limit === null;
    if (limit !== null) {
      meterBar.max = limit;
      meterBar.low = limit * 0.7;
      meterBar.high = limit * 0.9;
      meterBar.value = goal.tokensUsed;
      usage.textContent = `${number.format(goal.tokensUsed)} / ${number.format(limit)} tokens (${Math.round((goal.tokensUsed / limit) * 100)}%)`;
    } else {
      usage.textContent = `${number.format(goal.tokensUsed)} tokens used (no budget)`;
    }
    timeUsed.textContent = `${goal.timeUsedSeconds} s`;
    continuations.textContent = String(goal.continuationCount);
    if (document.activeElement !== status) status.value = goal.status;
  }

  async function render(): Promise<void> {
    const threadId = app.selectedThreadId;
    body.hidden = !threadId;
    empty.hidden = !!threadId;
    if (!threadId) return;
    show(await app.store.getThreadGoal(threadId));
  }

  app.on(['selection', 'goal'], render);
  return panel('goal', 'Goal', empty, body);
}
