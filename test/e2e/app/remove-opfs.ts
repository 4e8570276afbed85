// Evaluated before the store's worker module (imports run in order): no OPFS, as in a private window.
delete (StorageManager.prototype as { getDirectory?: unknown }).getDirectory;
export {};
