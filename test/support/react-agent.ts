import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { tool } from '@langchain/core/tools';
import type { BaseCheckpointSaver, BaseStore } from '@langchain/langgraph-checkpoint';
import { createReactAgent } from '@langchain/langgraph/prebuilt';

/**
 * A scripted tool-calling chat model for createReactAgent runs without a provider: after a user
 * message it calls the `lookup` tool, after the tool's answer it replies in text. Its texts are a few
 * hundred characters, like a real exchange, so that a run's storage is realistic.
 */
export class ScriptedToolModel extends BaseChatModel {
  calls = 0;

  _llmType(): string {
    return 'scripted-tool-model';
  }

  override bindTools(): this {
    return this;
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const n = this.calls++;
    const last = messages.at(-1);
    const message =
      last?.getType() === 'human'
        ? new AIMessage({ content: '', tool_calls: [{ id: `call-${n}`, name: 'lookup', args: { query: String(last.content).slice(0, 80) } }] })
        : new AIMessage(`Answer ${n}: ${'Here is what the lookup found, summarised for you with the details that matter. '.repeat(3)}`);
    return { generations: [{ text: typeof message.content === 'string' ? message.content : '', message }] };
  }
}

/** The tool the scripted model calls: it answers with about 400 characters. */
export const lookup = tool(async (input: { query: string }) => `Results for ${input.query}: ${'a paragraph of retrieved text. '.repeat(13)}`, {
  name: 'lookup',
  description: 'Looks something up.',
  schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
});

/** A createReactAgent over the scripted model, saving to `checkpointer` (and `store`, when given). */
export function scriptedAgent(checkpointer: BaseCheckpointSaver, store?: BaseStore) {
  return createReactAgent({ llm: new ScriptedToolModel({}), tools: [lookup], checkpointer, ...(store ? { store } : {}) });
}

/** Runs `turns` user turns on one thread: each is a user message, a tool call, the tool's answer and a reply. */
export async function runTurns(agent: ReturnType<typeof scriptedAgent>, threadId: string, turns: number): Promise<void> {
  const config = { configurable: { thread_id: threadId } };
  for (let i = 0; i < turns; i++) {
    await agent.invoke({ messages: [new HumanMessage(`Question ${i}: ${'what do you know about this topic, in some detail? '.repeat(2)}`)] }, config);
  }
}
