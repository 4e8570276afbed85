import type { Unsubscribe } from '../core/types.js';

/**
 * One live query in the shape useSyncExternalStore takes: `subscribe` starts the query and returns
 * what stops it; `getSnapshot` returns the last delivery, the same object until a delivery differs.
 * It imports nothing from React, so it is tested in Node without rendering.
 */
export interface LiveSource<T> {
  subscribe(onStoreChange: () => void): Unsubscribe;
  getSnapshot(): T | undefined;
}

/**
 * A source over `start`, one of the store's watch calls. Its value outlives a subscription, so
 * StrictMode's subscribe, unsubscribe, subscribe shows no gap. A live query delivers only results
 * that differ from its own previous one, but a new subscription's first delivery may equal what the
 * last one left here: that one keeps the old array, so React sees no change and does not re-render.
 */
export function liveSource<T>(start: (listener: (value: T) => void) => Unsubscribe): LiveSource<T> {
  let value: T | undefined;
  return {
    subscribe(onStoreChange) {
      let first = true;
      return start((next) => {
        if (first) {
          first = false;
          if (value !== undefined && JSON.stringify(next) === JSON.stringify(value)) return;
        }
        value = next;
        onStoreChange();
      });
    },
    getSnapshot: () => value,
  };
}

/** The source of a hook asked for nothing (useBranch without a thread): no subscription, no value. */
export const NO_SOURCE: LiveSource<never> = {
  subscribe: () => () => {},
  getSnapshot: () => undefined,
};
