import type { TextFile } from './port.js';

/** A TextFile held in memory: the session index of an in-memory store. */
export function memoryTextFile(initial = ''): TextFile & { readonly content: string } {
  let content = initial;
  return {
    get content() {
      return content;
    },
    read: () => content,
    append(text) {
      content += text;
    },
    replace(text) {
      content = text;
    },
  };
}
