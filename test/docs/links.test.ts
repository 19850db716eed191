/**
 * Every relative link of the README and of the docs/ pages resolves: the file (or folder) exists, and a
 * `#anchor` names a heading of the target page, slugged the way GitHub renders Markdown headings (lower
 * case, punctuation dropped, spaces to hyphens, a repeated heading gets -1, -2, ...).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, relativeLinks } from '../support/markdown';

const ROOT = join(__dirname, '..', '..');

const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];

describe('documentation links', () => {
  it('the slugger follows GitHub: punctuation dropped, spaces to hyphens, repeats numbered', () => {
    expect([...anchorsOf('# Redeploying after `cdk destroy`\n## Default settings\n## Default settings\n```\n# not a heading\n```')]).toEqual([
      'redeploying-after-cdk-destroy',
      'default-settings',
      'default-settings-1',
    ]);
    expect(relativeLinks('[a](docs/x.md#y) [b](https://example.com) `[c](z.md)` ![d](img.png)')).toEqual(['docs/x.md#y', 'img.png']);
  });

  it.each(pages)('every relative link of %s resolves, anchors included', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const broken: string[] = [];
    for (const link of relativeLinks(text)) {
      const [path, anchor] = link.split('#') as [string, string | undefined];
      const target = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), decodeURIComponent(path));
      if (!existsSync(target)) {
        broken.push(`${link}: no file ${relative(ROOT, target)}`);
        continue;
      }
      if (anchor !== undefined) {
        if (statSync(target).isDirectory() || !target.endsWith('.md')) {
          broken.push(`${link}: an anchor into a file that is not Markdown`);
          continue;
        }
        if (!anchorsOf(readFileSync(target, 'utf8')).has(anchor)) broken.push(`${link}: no heading #${anchor} in ${relative(ROOT, target)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the README stays a front page: under 12 KB, with the two quick-start commands', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(Buffer.byteLength(readme)).toBeLessThan(12 * 1024);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    for (const page of pages.filter((p) => p !== 'README.md')) expect(readme, `README links ${page}`).toContain(`](${page}`);
  });
});
