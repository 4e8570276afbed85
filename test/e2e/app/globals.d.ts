import type { openStateStore as Open, StoreError as StoreErrorClass } from 'agent-state-store';

declare global {
  interface Window {
    openStateStore: typeof Open;
    StoreError: typeof StoreErrorClass;
    runContractCase(name: string): Promise<void>;
    workerWithoutOpfs(): Worker;
    workerWithoutOpfsOrLocks(): Worker;
    workerWithSafariUserAgent(): Worker;
    storedCommits(storeName: string): Promise<number>;
    ownWorker(): Worker;
    readStoreFile(storeName: string, file: string): Promise<string | null>;
    quotaWorker(): Worker;
    setQuotaExceeded(fail: string[]): Promise<number>;
    flushCountingWorker(): Worker;
    syncFlushes(worker: Worker): Promise<number>;
    failoverWorker(): Worker;
    armFailover(): Promise<void>;
    nextHungCommit(): Promise<{ method: string; requestId: string }>;
  }
}
