/**
 * Stage 2 — `cfn-lint` on the synthesised template: zero errors. Every warning is listed, and
 * each must be one this file justifies (rule id AND where it may occur); an unexpected warning
 * fails, so a new finding is looked at instead of scrolling past.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { STACK_NAME, synthesize } from './support/assembly.js';

interface Finding { Level: string; Rule: { Id: string }; Message: string; Location: { Path: Array<string | number> } }

/** Warnings accepted, with why and where (a path pattern under the template). */
const ALLOWED_WARNINGS: Readonly<Record<string, { readonly why: string; readonly where: RegExp }>> = {
  W3005: {
    why: "CDK adds an explicit DependsOn on a function's (or state machine's) own role and policy, and on the Athena workgroup of each named query, although a GetAtt/Ref already orders them; the redundant dependency is harmless and comes from aws-cdk-lib, not from Confluo's code.",
    where: /^Resources\/[A-Za-z0-9]+\/DependsOn\/\d+$/,
  },
  W3045: {
    why: "S3 server access logs are delivered through the bucket ACL: CDK sets AccessControl: LogDeliveryWrite on the access-log buckets that serverAccessLogsBucket targets (the legacy property is what log delivery needs there).",
    where: /^Resources\/(WebInboxAccessLogs|ExportAccessLogs|MediaAccessLogs)[A-F0-9]{8}\/Properties\/AccessControl$/,
  },
};

describe('stage 2: cfn-lint', () => {
  it('finds no error in the template and only justified warnings', async () => {
    const assembly = await synthesize(inject('deployWorkDir'));
    const template = join(assembly.outDir, `${STACK_NAME}.template.json`);
    const run = spawnSync('cfn-lint', ['--format', 'json', template], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    // Exit status is a bit mask (2 error, 4 warning, 8 informational); the JSON report says what.
    let findings: Finding[];
    try {
      findings = JSON.parse(run.stdout) as Finding[];
    } catch {
      throw new Error(`cfn-lint gave no JSON report (exit ${run.status}): ${run.stderr || run.stdout}`);
    }
    const where = (f: Finding) => f.Location.Path.join('/');
    const byRule = new Map<string, Finding[]>();
    for (const f of findings) byRule.set(`${f.Level} ${f.Rule.Id}`, [...(byRule.get(`${f.Level} ${f.Rule.Id}`) ?? []), f]);
    console.log(`cfn-lint ${findings.length ? 'findings' : 'found nothing'}:\n${[...byRule].map(([k, fs]) => `  ${k} ×${fs.length} (${ALLOWED_WARNINGS[fs[0]!.Rule.Id]?.why ?? fs[0]!.Message})`).join('\n')}`);

    expect(findings.filter((f) => f.Level === 'Error').map((f) => `${f.Rule.Id} ${where(f)}: ${f.Message}`)).toEqual([]);
    const unexpected = findings.filter((f) => f.Level === 'Warning' && !ALLOWED_WARNINGS[f.Rule.Id]?.where.test(where(f)));
    expect(unexpected.map((f) => `${f.Rule.Id} ${where(f)}: ${f.Message}`)).toEqual([]);
  });
});
