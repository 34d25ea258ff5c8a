/**
 * Shared fixtures of the infrastructure tests. Stacks are synthesised with bundling skipped
 * (`aws:cdk:bundling-stacks: []`), so no esbuild run and no handler file is needed; each test file
 * builds its stack once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfluoStack, type ConfluoStackProps } from '../../lib/confluo-stack.js';
import { NAMESPACES, SETTINGS, TEST_SECRETS } from '../../functions/runtime/config.js';

/** An app that never bundles (unit tests must not depend on esbuild or the handlers). */
export function testApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

/** An empty stack to hold one construct under test. */
export function testStack(id = 'Test'): Stack {
  return new Stack(testApp(), id);
}

/** The whole Confluo stack and its template. */
export function synthConfluo(props: ConfluoStackProps = {}): { stack: ConfluoStack; template: Template } {
  const stack = new ConfluoStack(testApp(), 'Confluo', props);
  return { stack, template: Template.fromStack(stack) };
}

/** The Confluo stack in an app with the AwsSolutions (cdk-nag v3) plugin; synth throws on findings. */
export function confluoAppWithNag(props: ConfluoStackProps = {}): { app: App; stack: ConfluoStack } {
  const app = testApp();
  const stack = new ConfluoStack(app, 'Confluo', props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

export interface NagReport { conclusion: string; violations: unknown[]; suppressedViolations: Array<{ reason: string }> }

/** Synthesise `app` (its AwsSolutions plugin already added) and return that plugin's validation report. */
export function awsSolutionsReport(app: App): NagReport {
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: Array<NagReport & { pluginName: string }> };
  return report.pluginReports.find((p) => p.pluginName === 'AwsSolutions')!;
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

/** Environment variables of every Lambda function, by logical id. */
export function lambdaEnvironments(template: Template): Record<string, Record<string, unknown>> {
  const fns = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
  return Object.fromEntries(Object.entries(fns).map(([id, fn]) => {
    const env = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    return [id, env];
  }));
}

/** The logical id of the only Lambda function whose logical id starts with `prefix`. */
export function functionId(template: Template, prefix: string): string {
  const ids = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one function with logical id prefix '${prefix}', got [${ids.join(', ')}]`);
  return ids[0]!;
}

/** Logical id of the only resource of `type` whose logical id starts with `prefix`. */
export function resourceId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} with logical id prefix '${prefix}', got [${ids.join(', ')}]`);
  return ids[0]!;
}

/** All IAM policy statements attached to the role of a function (its DefaultPolicy). */
export function policyStatements(template: Template, functionLogicalId: string): Array<Record<string, unknown>> {
  const fn = template.toJSON().Resources[functionLogicalId] as Resource;
  const roleRef = (fn.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy') as Record<string, Resource>;
  return Object.values(policies)
    .filter((p) => (p.Properties?.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleRef))
    .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement);
}

/** Every action a function's role is allowed (flattened). */
export function allowedActions(template: Template, functionLogicalId: string): string[] {
  return policyStatements(template, functionLogicalId)
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]) as string[]);
}

/** Names of the settings that are secrets (config.ts), e.g. TELEGRAM_BOT_TOKEN. */
export const SECRET_SETTING_NAMES: readonly string[] = SETTINGS.filter((s) => 'secret' in s && s.secret).map((s) => s.name);
/** Every declared setting name. */
export const SETTING_NAMES: ReadonlySet<string> = new Set(SETTINGS.map((s) => s.name));
export { NAMESPACES, TEST_SECRETS };

/** A state machine's properties and its ASL with the one token (the task function's ARN) as `FN_ARN`. */
export function stateMachineOf(template: Template, logicalId: string) {
  const props = () => template.toJSON().Resources[logicalId].Properties;
  const definition = () => {
    const parts = props().DefinitionString['Fn::Join'][1] as unknown[];
    return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'FN_ARN')).join(''));
  };
  return { sm: props, definition };
}
