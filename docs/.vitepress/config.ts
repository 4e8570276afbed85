import { existsSync, readFileSync } from 'node:fs';
import { defineConfig, type DefaultTheme } from 'vitepress';

// The API reference is generated from the TSDoc by TypeDoc (`npm run docs:api`, which docs:dev and
// docs:build run first) into docs/api/, with a sidebar of its own; nothing in it is written by hand.
const apiSidebarFile = new URL('../api/typedoc-sidebar.json', import.meta.url);
const apiSidebar: DefaultTheme.SidebarItem[] = existsSync(apiSidebarFile) ? JSON.parse(readFileSync(apiSidebarFile, 'utf8')) : [];

const guides: DefaultTheme.SidebarItem[] = [
  {
    text: 'Guides',
    items: [
      { text: 'Getting started', link: '/getting-started' },
      { text: 'React', link: '/react' },
      { text: 'AI SDK', link: '/ai-sdk' },
      { text: 'LangGraph', link: '/langgraph' },
      { text: 'The edge (Cloudflare)', link: '/edge' },
      { text: 'Sync between devices', link: '/sync-guide' },
      { text: 'Sync: the rules', link: '/sync' },
      { text: 'Tabs, storage and durability', link: '/tabs-and-durability' },
      { text: 'Browser support', link: '/browsers' },
      { text: 'Search, pages, streaming', link: '/chat-features' },
      { text: 'Export and import', link: '/export-import' },
      { text: 'Migrating from Dexie or IndexedDB', link: '/migrating' },
      { text: 'Limits', link: '/limits' },
      { text: 'Performance', link: '/performance' },
      { text: 'The Rust store', link: '/rust-store' },
      { text: 'Troubleshooting', link: '/troubleshooting' },
    ],
  },
  {
    text: 'Reference',
    items: [
      { text: 'Operations at a glance', link: '/operations' },
      { text: 'Data model and errors', link: '/data-model' },
      { text: 'API (generated)', link: '/api/' },
    ],
  },
];

export default defineConfig({
  title: 'agent-state-store',
  description: 'A SQLite database in the browser for AI chat and agent state: threads, branching messages, checkpoints.',
  cleanUrls: true,
  // Pages link to the repository's sources, tests and bench results (../src/…, ../bench/…), which are
  // not pages of the site; a dead link between pages still fails the build.
  ignoreDeadLinks: [/^\.\.\//, /^\/\.\.\//],
  themeConfig: {
    nav: [
      { text: 'Guides', link: '/getting-started' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: {
      '/api/': [{ text: 'API reference', items: apiSidebar }, ...guides],
      '/': guides,
    },
    search: { provider: 'local' },
  },
});
