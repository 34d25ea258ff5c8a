/** docs/channels.md says what the adapters do: every channel's text limit, with a link to the platform's documentation. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { channels } from '../../functions/channels/registry.js';
import { REPO_ROOT } from '../helpers/samples.js';

const doc = readFileSync(join(REPO_ROOT, 'docs', 'channels.md'), 'utf8');
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

describe('docs/channels.md', () => {
  it('tables the text limit of every channel as the adapter enforces it, with a documentation link', () => {
    for (const adapter of Object.values(channels)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${adapter.name}\` |`));
      expect(row, adapter.name).toBeDefined();
      const limit = adapter.capabilities.textLimit;
      if (!limit) { expect(row).toMatch(/\| none \|/); continue; }
      expect(row).toContain(limit.max.toLocaleString('en-US'));
      expect(row).toContain(limit.unit === 'utf8' ? 'bytes of UTF-8' : limit.unit === 'codepoint' ? 'code points' : 'UTF-16 code units');
      expect(row).toMatch(/\]\(https:\/\//);
    }
  });

  it('is linked from the README\'s Channels section', () => {
    const channelsSection = readme.slice(readme.indexOf('## Channels'), readme.indexOf('## Agent API'));
    expect(channelsSection).toContain('(docs/channels.md)');
  });
});
