import MarkdownIt from 'markdown-it';

/**
 * Markdown for the agent's replies, through markdown-it. A reply is model output, so it is treated
 * as hostile: raw HTML is off (`html: false` escapes every tag as text), images are off (a remote
 * image would call home the moment a reply is shown), and a link survives only with an http(s) or
 * mailto address; anything else (javascript:, data:, vbscript:, file:) stays plain text.
 */
const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
md.disable('image');

const SAFE_LINK = /^(https?:|mailto:)/i;
md.validateLink = (url: string) => SAFE_LINK.test(url.trim());

// Links open in a new tab and give the opened page no handle on this one.
const defaultLinkOpen = md.renderer.rules['link_open'] ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules['link_open'] = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  token.attrSet('target', '_blank');
  token.attrSet('rel', 'noopener noreferrer nofollow');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/** Renders `text` as Markdown into `container`, replacing what it held. */
export function renderMarkdown(container: HTMLElement, text: string): void {
  container.innerHTML = md.render(text);
}
