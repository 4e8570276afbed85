/**
 * Cold-start profile: serves one or more builds of the probe app (vite preview), seeds a store in
 * each, then times fresh page loads, interleaved build by build, in Chromium on an on-disk profile.
 * Usage: node scripts/startup-profile/run.mjs <messages> <rounds> tag:port [tag:port ...]
 * (each tag's app is built beforehand into .cache/startup-profile-<tag> and served on its port).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';

const [messages, rounds, ...variants] = process.argv.slice(2);
const total = Number(messages);
const servers = [];
const targets = variants.map((v) => {
  const [tag, port] = v.split(':');
  return { tag, port: Number(port), url: `http://localhost:${port}/` };
});
for (const t of targets) {
  const child = spawn('npx', ['vite', 'preview', '--config', 'scripts/startup-profile/vite.config.ts', '--port', String(t.port), '--strictPort'], {
    env: { ...process.env, PROFILE_TAG: t.tag, PROFILE_PORT: String(t.port) },
    stdio: 'ignore',
    detached: true,
  });
  servers.push(child);
}
for (const t of targets) {
  for (let i = 0; ; i++) {
    const up = await fetch(t.url).then(() => true, () => false);
    if (up) break;
    if (i > 600) throw new Error(`no server on ${t.url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// KEEP_PROFILE=<dir> reuses a profile (and the stores seeded in it) across runs.
const kept = process.env.KEEP_PROFILE;
if (kept) mkdirSync(kept, { recursive: true });
const dir = kept ?? mkdtempSync(join(tmpdir(), 'ass-startup-'));
const context = await chromium.launchPersistentContext(dir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});

async function load(url) {
  const page = await context.newPage();
  page.on('console', (m) => console.error('page:', m.type(), m.text()));
  page.on('pageerror', (e) => console.error('pageerror:', e.message));
  if (process.env.DEBUG) { page.on('worker', (w) => { console.error('worker', w.url()); w.on('console', (m) => console.error('wconsole', m.text())); }); page.on('response', (r) => console.error('resp', r.status(), r.url())); }
  await page.goto(url);
  const out = await page.waitForFunction(() => window.result ?? (window.error ? { error: window.error } : undefined), null, { timeout: 300_000, polling: 20 });
  const value = await out.jsonValue();
  await page.close();
  if (value.error) throw new Error(value.error);
  return value;
}

const name = `p${total}`;
for (const t of targets) {
  const marker = join(dir, `seeded-${t.port}-${total}`);
  if (existsSync(marker)) continue;
  const s = Date.now();
  const r = await load(`${t.url}?seed=${total}&name=${name}`);
  writeFileSync(marker, '');
  console.error(`seeded ${t.tag}: ${total} messages in ${Date.now() - s} ms, db ${r.info.databaseBytes ?? r.info.sizeBytes ?? '?'} bytes`);
}

// The worker's marks (agent-state-store:*, or ass:* in the first instrumented build); a stage is the time since the previous mark.
const STAGES = [
  ['module', 'worker created → worker module evaluated'],
  ['open', '→ open() received'],
  ['lead', '→ leader lock granted'],
  ['engine', '→ engine loaded'],
  ['pool', '→ OPFS dir and sahpool installed'],
  ['index-file', '→ session index file opened'],
  ['db', '→ database opened'],
  ['store-open', '→ locking mode, schema check, session index'],
  ['sweep', '→ journal mode, synchronous, leader, sweep'],
  ['leader', '→ leader started'],
  ['opened', '→ open() answered'],
];
const samples = new Map();
const add = (k, v) => {
  if (!Number.isFinite(v)) return;
  if (!samples.has(k)) samples.set(k, []);
  samples.get(k).push(v);
};
for (let round = 0; round < Number(rounds); round++) {
  for (const mode of ['default', 'profiled']) {
    for (const t of targets) {
      const r = await load(`${t.url}?cold=1&name=${name}&worker=${mode}&r=${round}`);
      const k = (s) => `${t.tag}|${mode}|${s}`;
      add(k('nav→import'), r.tImport0);
      add(k('import'), r.tImport - r.tImport0);
      add(k('openStateStore'), r.tOpen - r.tImport);
      add(k('first listThreads'), r.tList - r.tOpen);
      add(k('getBranch'), r.tBranch - r.tList);
      add(k('import→first read'), r.tList - r.tImport0);
      add(k('openStateStore→first read'), r.tList - r.tImport);
      add(k('nav→first read'), r.tList);
      if (r.worker) {
        const at = (n) => r.worker.marks.find((m) => m.name === `agent-state-store:${n}` || m.name === `ass:${n}`)?.at - r.pageOrigin;
        let prev = r.worker.origin - r.pageOrigin;
        add(k('page import → worker origin'), prev - r.tImport);
        for (const [stage] of STAGES) {
          const v = at(stage);
          if (!Number.isFinite(v)) continue;
          add(k(`w:${stage}`), v - prev);
          prev = v;
        }
        add(k('w:answer → page'), r.tOpen - prev);
        const wasm = r.worker.resources.find((x) => x.name.endsWith('.wasm'));
        if (wasm) add(k('wasm fetch (start→responseEnd)'), wasm.responseEnd - wasm.start);
        if (wasm) add(k('wasm responseEnd → engine'), at('engine') - (wasm.responseEnd - r.pageOrigin));
      }
    }
  }
  process.stderr.write('.');
}
process.stderr.write('\n');
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
const keys = [...new Set([...samples.keys()].map((k) => k.split('|').slice(1).join('|')))];
console.log(`messages ${total}, rounds ${rounds}, loadavg ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
console.log(['stage'.padEnd(52), ...targets.map((t) => t.tag.padStart(10))].join(' '));
for (const key of keys) {
  console.log([key.padEnd(52), ...targets.map((t) => {
    const v = samples.get(`${t.tag}|${key}`);
    return (v ? median(v).toFixed(1) : '-').padStart(10);
  })].join(' '));
}
await context.close();
if (!kept) rmSync(dir, { recursive: true, force: true });
// npx starts vite as a child: end the whole process group.
for (const s of servers) process.kill(-s.pid);
