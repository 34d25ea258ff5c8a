import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTable } from '../../scripts/gen-config-table.js';
import { channels } from '../../functions/channels/registry.js';
import { LOOKUP_ATTRIBUTES } from '../../functions/domain/voice.js';
import { REPO_ROOT } from '../helpers/samples.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('has the configuration table and analytics schema generated from code', () => {
    expect(readme).toBe(withTable(readme));
  });

  it('names the two commands a new user runs', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });

  it('documents how to connect every registered channel and its secrets', () => {
    for (const adapter of Object.values(channels)) {
      expect(readme, adapter.name).toMatch(new RegExp(`^#{3,4} .*${adapter.name}`, 'mi'));
      for (const secret of adapter.inboundSecrets) expect(readme, secret).toContain(`\`${secret}\``);
    }
  });

  it('documents the phone channel: how to wire a contact flow, its attributes and the verified-number decision', () => {
    expect(readme).toMatch(/^#### Phone \(Amazon Connect\) \(`voice`\)$/m);
    for (const attribute of LOOKUP_ATTRIBUTES) expect(readme, attribute).toContain(`\`${attribute}\``);
    expect(readme).toContain('Invoke AWS Lambda function');
    expect(readme).toContain('Is the presented number verified?');
    expect(readme).toContain('connectInstanceArn');
  });

  it('is what .ci/run runs', () => {
    expect(readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8')).toContain('npm ci --no-audit --no-fund && npm test');
  });
});
