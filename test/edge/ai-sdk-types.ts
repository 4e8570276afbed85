import type { StreamingChatStore, VersionsChatStore } from '../../src/ai-sdk/index.js';
import type { EdgeStoreClient } from '../../src/cloudflare/client.js';

// A Worker's edgeStore() client is a store for the AI SDK bridge on a server (checked by `tsc -p tsconfig.edge.json`).
export const edgeFits: (client: EdgeStoreClient) => StreamingChatStore & VersionsChatStore = (client) => client;
