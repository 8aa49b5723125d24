import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

/**
 * The project's documentation as a reader meets it: the README, then every page under docs/. The README test
 * runs what these pages show, and the link test follows what they link.
 */
export interface DocPage {
  /** Relative to the folder the pages were read from, with forward slashes: `README.md`, `docs/cli.md`. */
  path: string;
  text: string;
}

export function docPages(root: string): DocPage[] {
  const docs = join(root, 'docs');
  const pages = existsSync(docs)
    ? readdirSync(docs)
        .filter((name) => name.endsWith('.md'))
        .sort()
        .map((name) => `docs/${name}`)
    : [];
  return ['README.md', ...pages].map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }));
}

/** A fenced code block: its info string's language (`''` for none) and the text between the fences. */
export interface FencedBlock {
  page: string;
  lang: string;
  body: string;
}

const FENCE = /^```(.*)$/;

/** A page's fenced blocks, in order. A fence opens with ```lang and closes with a line of ``` alone. */
export function fencedBlocks(page: DocPage): FencedBlock[] {
  const found: FencedBlock[] = [];
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of page.text.split('\n')) {
    if (open) {
      if (line === '```') {
        found.push({
          page: page.path,
          lang: open.lang,
          body: open.lines.map((text) => `${text}\n`).join(''),
        });
        open = undefined;
      } else open.lines.push(line);
    } else {
      const fence = FENCE.exec(line);
      if (fence) open = { lang: (fence[1] ?? '').trim(), lines: [] };
    }
  }
  if (open) throw new Error(`${page.path}: a code block is never closed`);
  return found;
}

/** A page without its fenced blocks, whose lines are neither headings nor links. */
const withoutFences = (text: string) => text.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');

/**
 * The anchor GitHub gives a heading, by the rule its documentation states ("Section links"): markup removed,
 * letters in lower case, spaces replaced by hyphens, any other whitespace or punctuation removed; an anchor
 * already taken on the page gets `-1`, `-2`, ... appended.
 */
export function githubAnchor(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a page's headings give, duplicates numbered as GitHub numbers them. */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading = ''] of withoutFences(text).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const anchor = githubAnchor(heading);
    let unique = anchor;
    for (let n = 1; anchors.has(unique); n++) unique = `${anchor}-${n}`;
    anchors.add(unique);
  }
  return anchors;
}

/** The targets of a page's inline links that stay inside the project (no scheme such as https: or mailto:). */
export function relativeLinks(page: DocPage): string[] {
  const prose = withoutFences(page.text).replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => m[1] ?? '')
    .filter((target) => !/^[a-z][a-z\d+.-]*:/i.test(target));
}

/**
 * Each relative link, among `pages` read from `root`, that names a file that does not exist or a heading its
 * page does not have, as `page: target (why)`.
 */
export function brokenLinks(root: string, pages: DocPage[]): string[] {
  const broken: string[] = [];
  for (const page of pages) {
    for (const target of relativeLinks(page)) {
      const [file = '', anchor] = target.split('#');
      const path = file === '' ? page.path : normalize(join(dirname(page.path), file));
      if (file !== '' && (path.startsWith('..') || !existsSync(join(root, path)))) {
        broken.push(`${page.path}: ${target} (no file ${path})`);
        continue;
      }
      if (anchor === undefined) continue;
      const text = file === '' ? page.text : readFileSync(join(root, path), 'utf8');
      if (!path.endsWith('.md') || !headingAnchors(text).has(anchor)) {
        broken.push(`${page.path}: ${target} (no heading #${anchor} in ${path})`);
      }
    }
  }
  return broken;
}
