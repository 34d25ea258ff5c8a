/**
 * Reading a SYNTHESISED CloudFormation template (the JSON `Template.fromStack(stack).toJSON()`
 * gives) for the local runtime: which Lambda function a property points at, and which handler
 * file that function runs.
 *
 * Every ConfluoFunction names its handler file in the resource Metadata under
 * `confluo:handler` (lib/confluo-function.ts HANDLER_METADATA_KEY). The key is repeated here
 * rather than imported so the local runtime does not load aws-cdk-lib at start-up; a test
 * checks both stay equal.
 */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** Same value as HANDLER_METADATA_KEY in lib/confluo-function.ts. */
export const HANDLER_METADATA_KEY = 'confluo:handler';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** A Lambda function of the template and the handler file it runs. */
export interface TemplateFunction {
  readonly logicalId: string;
  readonly handler: string;
}

/**
 * The logical id a property refers to: `{Ref: id}`, `{Fn::GetAtt: [id, attr]}`, or a
 * `Fn::Join` containing exactly one of them (as in a route's `integrations/<Ref>` target).
 */
export function referencedLogicalId(node: unknown): string | undefined {
  if (typeof node !== 'object' || node === null) return undefined;
  const o = node as Record<string, unknown>;
  if (typeof o.Ref === 'string') return o.Ref;
  if (Array.isArray(o['Fn::GetAtt']) && typeof o['Fn::GetAtt'][0] === 'string') return o['Fn::GetAtt'][0];
  if (Array.isArray(o['Fn::Join'])) {
    const parts = (o['Fn::Join'] as [string, unknown[]])[1] ?? [];
    const ids = parts.map(referencedLogicalId).filter((id): id is string => id !== undefined);
    return ids.length === 1 ? ids[0] : undefined;
  }
  return undefined;
}

/** The Lambda function a property (a function ARN or name) refers to, with its handler file. */
export function functionOf(template: CfnTemplate, node: unknown, where: string): TemplateFunction {
  const logicalId = referencedLogicalId(node);
  const fn = logicalId === undefined ? undefined : template.Resources[logicalId];
  if (!logicalId || fn?.Type !== 'AWS::Lambda::Function') {
    throw new TemplateError(`cfn-template: ${where} does not refer to a Lambda function of the template`, { cause: { where, node } });
  }
  const handler = fn.Metadata?.[HANDLER_METADATA_KEY];
  if (typeof handler !== 'string' || handler === '') {
    throw new TemplateError(`cfn-template: function ${logicalId} has no '${HANDLER_METADATA_KEY}' metadata naming its handler`, { cause: { logicalId } });
  }
  return { logicalId, handler };
}

/** Resources of one type, by logical id. */
export function resourcesOfType(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}
