import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

// A reader follows the README's contents and its links into docs/ (and events/) and back: every in-repo link must reach a
// file, and every #anchor a heading of that file, as GitHub renders it.
const DOCS = [
  'README.md',
  'events/README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];

/** The text outside fenced code blocks, line by line, with inline code spans kept (headings use them). */
const proseLines = (markdown: string): string[] => {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker && (fence === undefined || fence === marker)) {
      fence = fence === undefined ? marker : undefined;
      return '';
    }
    return fence === undefined ? line : '';
  });
};

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
const headingAnchors = (markdown: string): Set<string> => {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
};

/** Every Markdown link target outside code (fenced blocks and inline spans), with its line number. */
const linkTargets = (markdown: string): { line: number; target: string }[] =>
  proseLines(markdown).flatMap((line, i) =>
    [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => ({
      line: i + 1,
      target: m[1]!,
    })),
  );

const anchorsOf = new Map<string, Set<string>>();
const anchorsIn = (file: string): Set<string> => {
  let anchors = anchorsOf.get(file);
  if (!anchors) anchorsOf.set(file, (anchors = headingAnchors(readFileSync(file, 'utf8'))));
  return anchors;
};

/** The broken in-repo links of one Markdown file, as `file:line: target (why)`. */
const brokenLinks = (file: string): string[] => {
  const broken: string[] = [];
  for (const { line, target } of linkTargets(readFileSync(file, 'utf8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: — outside the repo
    const [path = '', anchor] = target.split('#');
    const resolved = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
    if (!existsSync(resolved)) {
      broken.push(`${file}:${line}: ${target} (no file ${resolved})`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!resolved.endsWith('.md') || statSync(resolved).isDirectory()) {
      broken.push(`${file}:${line}: ${target} (an anchor into ${resolved}, which is not Markdown)`);
      continue;
    }
    if (!anchorsIn(resolved).has(anchor)) {
      broken.push(`${file}:${line}: ${target} (no heading #${anchor} in ${resolved})`);
    }
  }
  return broken;
};

describe('links in README.md and docs/', () => {
  it('computes anchors as GitHub does, outside code, repeats numbered', () => {
    // Prepare
    const markdown = [
      '# The `steward status` check (v2)',
      '```sh',
      '# not a heading',
      '```',
      '## Redis drills on AWS (ElastiCache) and Redis DR',
      '## A fleet: 100 accounts × 3 regions',
      '### Rules',
      '### Rules',
    ].join('\n');

    // Act
    const anchors = headingAnchors(markdown);

    // Assert
    expect([...anchors]).toEqual([
      'the-steward-status-check-v2',
      'redis-drills-on-aws-elasticache-and-redis-dr',
      'a-fleet-100-accounts--3-regions',
      'rules',
      'rules-1',
    ]);
  });

  it('finds link targets in prose only, not in code', () => {
    // Prepare
    const markdown = [
      'See [a](#a) and `[b](#b)`.',
      '```md',
      '[c](#c)',
      '```',
      '[d](docs/x.md#y "title")',
    ].join('\n');

    // Act
    const targets = linkTargets(markdown);

    // Assert
    expect(targets).toEqual([
      { line: 1, target: '#a' },
      { line: 5, target: 'docs/x.md#y' },
    ]);
  });

  it('lists every section of README.md in its contents, in order', () => {
    // Prepare
    const readme = readFileSync('README.md', 'utf8');
    const sections = proseLines(readme).flatMap((l) => (/^## (?!Contents$)/.test(l) ? [l.slice(3)] : []));
    const contents = readme.split('\n## Contents\n')[1]!.split('\n## ')[0]!;

    // Act
    const listed = [...contents.matchAll(/^- \[([^\]]+)\]/gm)].map((m) => m[1]);

    // Assert
    expect(listed).toEqual(sections);
  });

  it('keeps the quick start to its two commands', () => {
    // Prepare
    const quickStart = readFileSync('README.md', 'utf8').split('\n## Quick start\n')[1]!.split('\n## ')[0]!;

    // Act
    const commands = /```sh\n([\s\S]*?)```/
      .exec(quickStart)![1]!
      .trim()
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, ''));

    // Assert
    expect(commands).toEqual(['npm ci && npm start', 'npm test']);
  });

  it.each(DOCS)('%s: every in-repo link reaches its file and heading', (file) => {
    // Act
    const broken = brokenLinks(file);

    // Assert
    expect(broken).toEqual([]);
  });
});
