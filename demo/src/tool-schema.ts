import type { DynamicToolRecord, JsonValue } from 'agent-state-store';

/**
 * Checks the tools editor's text before anything is written: valid JSON, an array of tools, each
 * with a function-style name and an input schema of the shape a model API expects (a JSON-schema
 * object with typed properties, and `required` naming only properties that exist). The store only
 * needs valid JSON; this is the demo being a careful app on top of it.
 */

/** One problem, with where it is ("tools[1].inputSchema.required[0]"). */
export interface ToolProblem {
  path: string;
  message: string;
}

/** The editor's text as tools, or the problems that stop it from being saved. */
export type ToolParse = { ok: true; tools: DynamicToolRecord[] } | { ok: false; problems: ToolProblem[] };

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object', 'null'];
const TOOL_KEYS = ['name', 'description', 'inputSchema'];

type JsonObject = { [key: string]: JsonValue };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkSchema(schema: JsonValue | undefined, path: string, problems: ToolProblem[]): void {
  if (!isObject(schema)) {
    problems.push({ path, message: 'must be a JSON schema object, e.g. {"type":"object","properties":{}}' });
    return;
  }
  if (schema['type'] !== 'object') problems.push({ path: `${path}.type`, message: 'must be "object" (a tool takes named arguments)' });
  const properties = schema['properties'];
  if (properties !== undefined && !isObject(properties)) problems.push({ path: `${path}.properties`, message: 'must be an object of property schemas' });
  const props = isObject(properties) ? properties : {};
  for (const [key, spec] of Object.entries(props)) {
    const type = isObject(spec) ? spec['type'] : undefined;
    if (typeof type !== 'string' || !TYPES.includes(type)) {
      problems.push({ path: `${path}.properties.${key}.type`, message: `must be one of ${TYPES.join(', ')}` });
    }
  }
  const required = schema['required'];
  if (required === undefined) return;
  if (!Array.isArray(required)) {
    problems.push({ path: `${path}.required`, message: 'must be an array of property names' });
    return;
  }
  required.forEach((name, i) => {
    if (typeof name !== 'string' || !(name in props)) problems.push({ path: `${path}.required[${i}]`, message: `names no property (${JSON.stringify(name)})` });
  });
}

/** Parses and checks the editor's text; positions follow the array order. */
export function parseTools(text: string): ToolParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [{ path: 'JSON', message: error instanceof Error ? error.message : String(error) }] };
  }
  if (!Array.isArray(value)) return { ok: false, problems: [{ path: 'tools', message: 'must be a JSON array of tools' }] };
  const problems: ToolProblem[] = [];
  const names = new Set<string>();
  value.forEach((tool, i) => {
    const path = `tools[${i}]`;
    if (!isObject(tool)) {
      problems.push({ path, message: 'must be an object with name, description and inputSchema' });
      return;
    }
    for (const key of Object.keys(tool)) if (!TOOL_KEYS.includes(key)) problems.push({ path: `${path}.${key}`, message: `is not a tool field (expected ${TOOL_KEYS.join(', ')})` });
    const name = tool['name'];
    if (typeof name !== 'string' || !NAME.test(name)) problems.push({ path: `${path}.name`, message: 'must be 1–64 letters, digits, "_" or "-", starting with a letter or "_"' });
    else if (names.has(name)) problems.push({ path: `${path}.name`, message: `"${name}" is used twice` });
    else names.add(name);
    const description = tool['description'];
    if (description !== undefined && description !== null && typeof description !== 'string') problems.push({ path: `${path}.description`, message: 'must be a string' });
    checkSchema(tool['inputSchema'], `${path}.inputSchema`, problems);
  });
  if (problems.length > 0) return { ok: false, problems };
  const tools = (value as JsonObject[]).map((t, position) => ({
    position,
    name: t['name'] as string,
    description: typeof t['description'] === 'string' ? t['description'] : null,
    inputSchema: t['inputSchema'] as JsonValue,
  }));
  return { ok: true, tools };
}

/** The editor's text for stored tools (positions are implied by the order). */
export function toolsText(tools: DynamicToolRecord[]): string {
  return JSON.stringify(
    tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })),
    null,
    2,
  );
}
