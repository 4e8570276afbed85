/**
 * `agent-state-store/ai-sdk`: keep the Vercel AI SDK's (`ai` 7) `UIMessage` lists in the store, the
 * way useChat holds them: loadChat/saveChat (chat.ts), saving a response as it streams
 * (stream.ts), and the versions of a message (branches.ts). Every type is exported from here.
 *
 * Nothing here imports `ai` at run time; it only uses its types.
 *
 * @module agent-state-store/ai-sdk
 */
export { loadChat, saveChat, UI_MESSAGE_FORMAT } from './chat.js';
export type { ChatStore, SaveChatResult } from './chat.js';
export { durableTransport, persistUIMessageStream } from './stream.js';
export type { PersistStreamOptions, StreamingChatStore } from './stream.js';
export { listMessageVersions, switchMessageVersion } from './branches.js';
export type { MessageVersion, VersionsChatStore } from './branches.js';
