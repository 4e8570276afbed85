import { edgeStore, StateStoreObject, StoreError } from 'agent-state-store/cloudflare';

export { StateStoreObject };

interface Env {
  STORES: DurableObjectNamespace<StateStoreObject>;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    // One store per user. Here the user comes from a header to keep the example short; a real app
    // takes it from its own authentication (the router's `authorize`), never from what the client says.
    const store = edgeStore(env.STORES, `user:${request.headers.get('x-user') ?? 'demo'}`);
    try {
      if (request.method === 'POST') {
        const { threadId, content } = await request.json<{ threadId?: string; content: string }>();
        const id = threadId ?? (await store.createThread({})).id;
        return Response.json(await store.addMessage(id, { role: 'user', content }));
      }
      return Response.json(await store.listThreads());
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      return Response.json({ code: error.code, message: error.message }, { status: error.code === 'NOT_FOUND' ? 404 : 400 });
    }
  },
};
