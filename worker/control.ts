/** Messages between the tabs' workers on a store's control channel (see storeChannels). */
export type ControlMessage =
  | { type: 'leader'; leaderId: string }
  | { type: 'who-leads' }
  | { type: 'hello'; tabId: string }
  | { type: 'welcome'; tabId: string; leaderId: string }
  | { type: 'resign'; leaderId: string }
  | { type: 'bye'; tabId: string };
