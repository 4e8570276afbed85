// Evaluated before the store's worker module (imports run in order): no OPFS, as in a private window.
// (WebKitGTK has no StorageManager in a worker at all: nothing to remove there.)
if (typeof StorageManager !== 'undefined') delete (StorageManager.prototype as { getDirectory?: unknown }).getDirectory;
export {};
