// Writes the README's React chat (the blocks marked `<!-- readme-chat: <file> -->`) into an app
// directory of its own, exactly as written, with `agent-state-store` installed the way an app has it:
// node_modules/agent-state-store is a link to this package, so its package.json `exports` (dist/,
// from `npm run build`) are what the app resolves. react, react-dom and vite come from the repo's
// node_modules, above the app. Prints the app's directory. test/e2e/readme-chat.spec.ts uses it.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const offset = process.env.PORT_OFFSET ? `-${process.env.PORT_OFFSET}` : '';
const app = join(repo, `.cache/readme-chat${offset}`);

const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/<!-- readme-chat: (\S+)[^>]*-->\n```\w+\n([\s\S]*?)```/g)];
const files = blocks.map(([, file, code]) => [file, code]);
for (const needed of ['src/main.tsx', 'vite.config.ts', 'index.html']) {
  if (!files.some(([file]) => file === needed)) throw new Error(`README.md has no readme-chat block for ${needed}`);
}

rmSync(app, { recursive: true, force: true });
for (const [file, code] of files) {
  mkdirSync(dirname(join(app, file)), { recursive: true });
  writeFileSync(join(app, file), code);
}
mkdirSync(join(app, 'node_modules'), { recursive: true });
symlinkSync(repo, join(app, 'node_modules/agent-state-store'), 'dir');
console.log(app);
