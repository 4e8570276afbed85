import {
  BaseStore, InvalidNamespaceError, validateNamespace,
  type GetOperation, type Item, type ListNamespacesOperation, type MatchCondition, type Operation, type OperationResults, type PutOperation,
  type SearchItem, type SearchOperation,
} from '@langchain/langgraph-checkpoint';
import type { GraphStoreItem, GraphStoreOperation, GraphStoreResult } from '../core/graph-memory.js';

/**
 * What StateStoreMemory needs of a store: its one batch method, returning its value (the core's
 * StateStore) or a Promise of it (the browser client, edgeStore()).
 */
export interface GraphMemoryStore {
  graphStoreBatch(operations: GraphStoreOperation[]): GraphStoreResult[] | Promise<GraphStoreResult[]>;
}

type Filter = Record<string, unknown>;

const OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin']);

/** A filter value, compared as LangGraph's InMemoryStore compares it: operators, or strict equality. */
function matches(actual: unknown, wanted: unknown): boolean {
  if (typeof wanted === 'object' && wanted !== null && !Array.isArray(wanted) && Object.keys(wanted).every((k) => OPERATORS.has(k))) {
    return Object.entries(wanted).every(([op, value]) => {
      switch (op) {
        case '$eq': return actual === value;
        case '$ne': return actual !== value;
        case '$gt': return Number(actual) > Number(value);
        case '$gte': return Number(actual) >= Number(value);
        case '$lt': return Number(actual) < Number(value);
        case '$lte': return Number(actual) <= Number(value);
        case '$in': return Array.isArray(value) && value.includes(actual);
        case '$nin': return !Array.isArray(value) || !value.includes(actual);
        default: return false;
      }
    });
  }
  return actual === wanted;
}

/** Whether a namespace meets a prefix or suffix condition ("*" matches any label). */
function meets(condition: MatchCondition, namespace: string[]): boolean {
  const { path, matchType } = condition;
  if (path.length > namespace.length) return false;
  const start = matchType === 'prefix' ? 0 : namespace.length - path.length;
  return path.every((label, i) => label === '*' || namespace[start + i] === label);
}

function toItem(item: GraphStoreItem): Item {
  return { namespace: item.namespace, key: item.key, value: item.value, createdAt: new Date(item.createdAt * 1000), updatedAt: new Date(item.updatedAt * 1000) };
}

/** The namespace rules of LangGraph's InMemoryStore: no empty label, no ".", no ":" (its separator), no NUL. */
function checkNamespace(namespace: string[], allowEmpty: boolean): void {
  validateNamespace(namespace, { allowEmpty, allowReservedRoot: true });
  if (namespace.some((label) => label.includes(':'))) throw new InvalidNamespaceError("Namespace labels cannot contain colons (':').");
}

/**
 * LangGraph's long-term memory (`BaseStore`) on the store: namespaced JSON items, shared across a
 * graph's threads, in the same database file as the conversations and checkpoints (on OPFS in a
 * page, in memory in Node, a Durable Object's SQLite on the edge). Pass it as a graph's `store`
 * (`compile({ store })`, `createReactAgent({ store })`); nodes and tools reach it as
 * `config.store`. It behaves as LangGraph's InMemoryStore without an embedding index: `search`
 * filters by namespace prefix and `filter` (equality and $eq/$ne/$gt/$gte/$lt/$lte/$in/$nin on
 * top-level keys) and pages with `limit`/`offset`; a `query` is ignored, as InMemoryStore ignores it
 * without an index. Each batch is one transaction and one call to the store.
 *
 * @example
 * const store = await openStateStore({ name: 'agent' });
 * const graph = workflow.compile({ checkpointer: new StateStoreSaver(store), store: new StateStoreMemory(store) });
 */
export class StateStoreMemory extends BaseStore {
  constructor(readonly store: GraphMemoryStore) {
    super();
  }

  /** Runs LangGraph's operations in one store batch, reads first, then the puts (the last put of a key wins). */
  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    const calls: GraphStoreOperation[] = operations.map((op): GraphStoreOperation => {
      if ('namespacePrefix' in op) {
        const search = op as SearchOperation;
        if (search.namespacePrefix.length > 0) checkNamespace(search.namespacePrefix, false);
        return { op: 'search', prefix: search.namespacePrefix };
      }
      if ('matchConditions' in op || ('limit' in op && !('namespace' in op))) return { op: 'namespaces' };
      if ('value' in op) {
        const put = op as PutOperation;
        checkNamespace(put.namespace, false);
        return { op: 'put', namespace: put.namespace, key: put.key, value: put.value as never };
      }
      const get = op as GetOperation;
      checkNamespace(get.namespace, false);
      return { op: 'get', namespace: get.namespace, key: get.key };
    });
    const results = await this.store.graphStoreBatch(calls);
    return operations.map((op, i) => {
      const result = results[i];
      const call = calls[i]!;
      if (call.op === 'get') return result ? toItem(result as GraphStoreItem) : null;
      if (call.op === 'put') return undefined;
      if (call.op === 'search') {
        const { filter, limit = 10, offset = 0 } = op as SearchOperation;
        const found = (result as GraphStoreItem[]).filter((item) => !filter || Object.entries(filter as Filter).every(([k, want]) => matches(item.value[k], want)));
        return found.slice(offset, offset + limit).map((item): SearchItem => ({ ...toItem(item), score: undefined }));
      }
      const { matchConditions, maxDepth, limit, offset = 0 } = op as ListNamespacesOperation;
      let namespaces = result as string[][];
      if (matchConditions?.length) namespaces = namespaces.filter((ns) => matchConditions.every((c) => meets(c, ns)));
      if (maxDepth !== undefined) namespaces = [...new Set(namespaces.map((ns) => ns.slice(0, maxDepth).join('\u0000')))].map((ns) => ns.split('\u0000'));
      namespaces.sort((a, b) => a.join(':').localeCompare(b.join(':')));
      return namespaces.slice(offset, offset + (limit ?? namespaces.length));
    }) as OperationResults<Op>;
  }
}
