// Evaluated before the store's worker module: no Web Locks, as in a browser that lacks them.
delete (Object.getPrototypeOf(navigator) as { locks?: unknown }).locks;
export {};
