// Evaluated before the store's worker module: the worker claims to be Mobile Safari. The store must
// choose its storage by what the browser has, so this changes nothing.
Object.defineProperty(Object.getPrototypeOf(navigator), 'userAgent', {
  configurable: true,
  get: () => 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
});
export {};
