import type { StateStoreClient, StoreChange } from 'agent-state-store';

/**
 * Sync for the demo: where the store syncs to (`?sync=<store URL>&token=<token>`, or the VITE_SYNC_URL and
 * VITE_SYNC_TOKEN that `npm run demo:sync` sets), and a small badge in the top bar with the sync state and
 * the count of local changes the server has not acknowledged yet. Remote changes need nothing here: the
 * conversation and thread list are live queries, and they deliver other devices' writes like local ones.
 */

/** The sync target of this page, or null when the demo runs local-only. */
export function syncTargetFromPage(): { url: string; token: string } | null {
  const query = new URLSearchParams(location.search);
  const env = (import.meta as unknown as { env?: Record<string, string | undefined> }).env ?? {};
  const url = query.get('sync') || env['VITE_SYNC_URL'] || '';
  const token = query.get('token') || env['VITE_SYNC_TOKEN'] || '';
  return url ? { url, token } : null;
}

/** What the badge shows: the part of info().sync and of a `sync` notice it reads. */
interface ShownSync {
  state: string;
  pending: number;
  lastError: { code: string; message: string } | null;
}

/** Renders a sync state into the badge: "synced · 0 pending", plus the error code when the last session failed. */
export function renderSyncBadge(badge: HTMLElement, sync: ShownSync): void {
  badge.hidden = false;
  badge.dataset['state'] = sync.state;
  badge.dataset['pending'] = String(sync.pending);
  badge.textContent = `${sync.state} · ${sync.pending} pending${sync.lastError ? ` · ${sync.lastError.code}` : ''}`;
  badge.title = sync.lastError ? `Sync: ${sync.lastError.message}` : `Sync: ${sync.state}, ${sync.pending} local changes not yet on the server`;
}

/** Keeps the badge in step with the store's sync status (its `sync` change notices) until the returned function is called. */
export async function followSync(store: StateStoreClient, badge: HTMLElement): Promise<() => void> {
  const unsubscribe = store.subscribe((change: StoreChange) => {
    if (change.kind === 'sync' && change.sync) renderSyncBadge(badge, change.sync);
  });
  const now = (await store.info()).sync;
  if (now) renderSyncBadge(badge, now);
  return unsubscribe;
}
