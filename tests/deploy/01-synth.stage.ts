/**
 * Stage 1 — `cdk synth` WITH bundling, as `cdk deploy` runs it: real esbuild bundles for every
 * function, the export asset with its DuckDB native module installed, and cdk-nag's AwsSolutions
 * checks in synthesis (an unacknowledged finding fails it). The assembly is what every later
 * stage reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { synthesize, synthReport, SYNTH_CONTEXT } from './support/assembly.js';

describe('stage 1: cdk synth with bundling', () => {
  it(`synthesises the stack (-c ${Object.entries(SYNTH_CONTEXT).map(([k, v]) => `${k}=${v}`).join(' -c ')}) with bundled assets, cdk-nag clean`, async () => {
    const workDir = inject('deployWorkDir');
    const assembly = await synthesize(workDir);
    const report = synthReport(workDir);
    console.log(`cdk synth took ${(report.ms / 1000).toFixed(1)} s`);

    const validation = JSON.parse(readFileSync(join(assembly.outDir, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ pluginName: string; conclusion: string; violations: unknown[] }> };
    expect(validation.pluginReports.map((p) => [p.pluginName, p.conclusion, p.violations.length])).toContainEqual(['AwsSolutions', 'success', 0]);
    for (const p of validation.pluginReports) expect(p.violations, p.pluginName).toEqual([]);

    const functions = assembly.functions();
    expect(functions.map((f) => f.handlerName).sort()).toEqual(['agent-api', 'assignment-offline', 'dispatch', 'export', 'help-api', 'ingest', 'media', 'orders-pull', 'orders-webhook', 'process', 'send', 'sla-evaluate', 'survey-link', 'survey-step', 'voice-events', 'voice-lookup', 'webchat-api']);
    for (const f of functions) {
      expect(assembly.resource(f.logicalId).Metadata?.['aws:asset:is-bundled'], f.handlerName).toBe(true);
      expect(existsSync(join(f.assetDir, 'index.mjs')), `${f.handlerName} bundle`).toBe(true);
    }
    // The export function ships DuckDB as an installed package (a native module cannot be bundled).
    expect(existsSync(join(assembly.fn('export').assetDir, 'node_modules', '@duckdb', 'node-api', 'package.json'))).toBe(true);
  });
});
