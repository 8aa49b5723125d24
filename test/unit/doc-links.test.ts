import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokenLinks, docPages, githubAnchor, headingAnchors, relativeLinks } from '../support/doc-pages';
import { ROOT } from '../support/process';

const pages = docPages(ROOT);
const [readme, ...docs] = pages;
const fileOf = (target: string) => target.split('#')[0];

describe('links between the README and the docs pages', () => {
  it('every relative link resolves to a file and, where it names one, a heading of that page', () => {
    expect(brokenLinks(ROOT, pages)).toEqual([]);
    expect(pages.flatMap(relativeLinks).filter((target) => target.includes('#')).length).toBeGreaterThan(10);
  });

  it('the README links every docs page', () => {
    expect(readme?.path).toBe('README.md');
    const linked = new Set(readme ? relativeLinks(readme).map(fileOf) : []);
    expect(docs.map((page) => page.path).filter((path) => !linked.has(path))).toEqual([]);
  });

  it('every docs page opens with its title and one paragraph that says what it covers and links back', () => {
    const badOpenings = docs
      .filter((page) => {
        const [title = '', paragraph = ''] = page.text.split('\n\n');
        return !/^# \S/.test(title) || title.includes('\n') || !paragraph.includes('](../README.md#read-on)');
      })
      .map((page) => page.path);
    expect(badOpenings).toEqual([]);
  });
});

describe('the link check', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'doc-links-'));
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'docs', 'page.md'), '# A page\n\n## Access hours\n\n## Access hours\n');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each([
    { label: 'a page that exists', link: '[p](docs/page.md)', broken: [] },
    { label: 'a heading of another page', link: '[p](docs/page.md#a-page)', broken: [] },
    { label: 'the second of two equal headings', link: '[p](docs/page.md#access-hours-1)', broken: [] },
    { label: 'a heading of the same page', link: '[p](#top)', broken: [] },
    { label: 'a web address', link: '[p](https://example.com/none.md)', broken: [] },
    { label: 'a link shown as code', link: '`[p](none.md)`', broken: [] },
    {
      label: 'a page that does not exist',
      link: '[p](docs/none.md)',
      broken: ['README.md: docs/none.md (no file docs/none.md)'],
    },
    {
      label: 'a heading the page does not have',
      link: '[p](docs/page.md#access-hours-2)',
      broken: ['README.md: docs/page.md#access-hours-2 (no heading #access-hours-2 in docs/page.md)'],
    },
    {
      label: 'a heading the same page does not have',
      link: '[p](#nowhere)',
      broken: ['README.md: #nowhere (no heading #nowhere in README.md)'],
    },
    {
      label: 'a file outside the pages',
      link: '[p](../elsewhere.md)',
      broken: ['README.md: ../elsewhere.md (no file ../elsewhere.md)'],
    },
  ])('$label', ({ link, broken }) => {
    expect(brokenLinks(root, [{ path: 'README.md', text: `# Top\n\n${link}\n` }])).toEqual(broken);
  });
});

/** GitHub's rule ("Section links"): markup removed, lower case, spaces to hyphens, other punctuation removed. */
describe('heading anchors', () => {
  it.each([
    { label: 'plain words', heading: 'Read on', anchor: 'read-on' },
    {
      label: 'a colon and code',
      heading: 'Keeping them out: `--table`',
      anchor: 'keeping-them-out---table',
    },
    {
      label: 'commas and quotes',
      heading: 'A small Lambda service, and "a client connects"',
      anchor: 'a-small-lambda-service-and-a-client-connects',
    },
    { label: 'parentheses', heading: 'Admin API (JSON)', anchor: 'admin-api-json' },
    { label: 'a link keeps its text', heading: '[Deploy](../README.md) notes', anchor: 'deploy-notes' },
    {
      label: 'letters beyond ASCII and underscores',
      heading: 'Café & Ünïcode_ok',
      anchor: 'café--ünïcode_ok',
    },
  ])('$label', ({ heading, anchor }) => {
    expect(githubAnchor(heading)).toBe(anchor);
  });

  it('numbers a repeated heading, and ignores lines in code blocks', () => {
    const text = '# Access hours\n\n```sh\n# not a heading\n```\n\n## Access hours\n';
    expect([...headingAnchors(text)]).toEqual(['access-hours', 'access-hours-1']);
  });
});
