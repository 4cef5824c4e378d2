import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const projectRoot = join(__dirname, '..', '..', '..');
const documents = ['README.md', 'docs/architecture.md', 'docs/operations.md', 'docs/performance.md', 'docs/iso20022.md', 'secrets/README.md'];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as dashes. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}

function linksOf(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '');
}

describe('the documentation describes the project from inside it', () => {
  test.each(documents)('when %s links a file or a section, then it is in this repository', (document) => {
    const text = readFileSync(join(projectRoot, document), 'utf8');
    const broken: string[] = [];
    for (const link of linksOf(text)) {
      if (/^(https?:|mailto:)/.test(link)) continue;
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? document : normalize(join(dirname(document), path));
      if (target.startsWith('..') || !existsSync(join(projectRoot, target))) broken.push(link);
      else if (anchor !== undefined && target.endsWith('.md')) {
        const headings = [...readFileSync(join(projectRoot, target), 'utf8').matchAll(/^#+ (.+)$/gm)].map((match) => anchorOf(match[1] ?? ''));
        if (!headings.includes(anchor)) broken.push(link);
      }
    }
    expect(broken).toEqual([]);
  });

  test("when the README's contents are read, then they list every section of it, in order", () => {
    const text = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    const sections = [...text.matchAll(/^(##|###) (.+)$/gm)].map((match) => match[2] ?? '').filter((heading) => heading !== 'Contents');
    const contents = text.slice(text.indexOf('## Contents'), text.indexOf('\n## ', text.indexOf('## Contents') + 1));
    const listed = [...contents.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]);
    expect(listed).toEqual(sections.map(anchorOf));
  });
});
