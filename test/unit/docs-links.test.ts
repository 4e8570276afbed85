import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The README is the product page and links everything else: the guides, the bench results its
// figures come from, the troubleshooting page. Every relative link of the README, CONTRIBUTING.md and
// the docs pages must reach a file of the repository (VitePress checks only links between its pages,
// and only when the site is built). Links into docs/api/ are left out: TypeDoc writes it at build time.
const root = fileURLToPath(new URL('../..', import.meta.url));

function pages(): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md') && !f.startsWith('api/') && !f.startsWith('.vitepress/'))
    .map((f) => `docs/${f}`);
  return ['README.md', 'CONTRIBUTING.md', ...docs];
}

/** [page, link] for each relative Markdown link outside code. */
function links(page: string): string[] {
  const text = readFileSync(join(root, page), 'utf8').replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((href) => !/^(?:[a-z]+:|#)/.test(href));
}

describe('links of the README and the docs', () => {
  it.each(pages())('%s links only to files that exist', (page) => {
    const broken = links(page)
      .map((href) => href.replace(/#.*$/, ''))
      .filter((path) => !normalize(join(dirname(page), path)).startsWith('docs/api'))
      .filter((path) => {
        const target = join(root, dirname(page), path);
        // VitePress pages are linked without .md too (cleanUrls); a folder link means its index.md.
        return !existsSync(target) && !existsSync(`${target}.md`);
      });
    expect(broken).toEqual([]);
  });

  it('the README links every figure it quotes to the bench results', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const figure of ['243 ms', '282 ms', '2.35×', '6.36×', '1.59×', '1.19×', '1.58×']) {
      expect(readme, figure).toMatch(new RegExp(`\\[[^\\]]*${figure.replace('.', '\\.')}[^\\]]*\\]\\(bench/results/targets\\.md\\)`));
      expect(readFileSync(join(root, 'bench/results/targets.md'), 'utf8'), figure).toContain(figure.replace('×', ' ×'));
    }
  });
});
