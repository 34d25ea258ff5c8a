/**
 * Lambda's event source mappings as the local runtime must reproduce them, read from the
 * SYNTHESISED template: the DynamoDB stream record as Lambda hands it to a function, Lambda's
 * event filtering, and the settings of each `AWS::Lambda::EventSourceMapping`.
 *
 * 1. Record shape (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, example event).
 *    `GetRecords` of @aws-sdk/client-dynamodb-streams returns `_Record`s whose
 *    `dynamodb.ApproximateCreationDateTime` is a JS Date and whose binary attributes (`B`, `BS`)
 *    are Uint8Arrays; the event Lambda builds is JSON: the time in epoch SECONDS (a number) and
 *    binary values base64 strings, plus `eventSourceARN` (the stream ARN) and the function's
 *    region as `awsRegion` (DynamoDB Local reports its own). Casting one to the other (as
 *    local/stream-poller.ts does today) hands a handler a Date where AWS gives a number.
 * 2. Filtering (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html):
 *    each `FilterCriteria.Filters[].Pattern` is a JSON pattern matched against the record as
 *    Lambda builds it (`eventName`, `dynamodb.NewImage.pk.S`, ...); a record is delivered when
 *    ANY pattern matches, otherwise Lambda drops it as processed. The rule syntax is
 *    EventBridge's (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html),
 *    whose reference implementation is aws/event-ruler (README "Ruler by Example"): a field's
 *    rules are a list matched if ANY rule matches; all fields of a pattern must match; an array
 *    value in the event matches if any element does; nested objects match nested patterns.
 *    Implemented: exact values (strings, numbers, booleans), `null`, `""`, `prefix`, `suffix`,
 *    `equals-ignore-case`, `anything-but` (a value, a list, or `prefix`/`suffix`/
 *    `equals-ignore-case`/`wildcard`), `numeric` (`=`, `<`, `<=`, `>`, `>=`, ranges), `exists`
 *    (leaf fields only, as documented: an object is not a leaf), `wildcard` (`*`, `\*` escape)
 *    and `$or`. Not implemented (refused when parsing): `cidr`. Strings never equal numbers, and
 *    DynamoDB numbers are strings (`{"N": "5"}`), so `numeric` cannot match an `N` attribute —
 *    Lambda's docs say the same. No npm package implements these patterns (none in the
 *    registry list under event-ruler, eventbridge pattern or filter-criteria names), hence this
 *    small matcher.
 * 3. `eventSourceMappingsOf(template)`: each mapping's function and handler, its source (table
 *    stream or queue) by logical id, and the settings with Lambda's documented defaults
 *    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html).
 */
import type { _Record, AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { functionOf, referencedLogicalId, resourcesOfType, type Template as CfnTemplate } from './template.js';

export class StreamEventError extends Error {
  override readonly name = 'StreamEventError';
}

// ---------------------------------------------------------------------------------------------
// 1. From GetRecords to Lambda's DynamoDBRecord

export interface LambdaRecordOptions {
  /** The stream ARN (the mapping's event source). */
  readonly eventSourceARN: string;
  /** The region Lambda reports (the function's). Default us-east-1. */
  readonly awsRegion?: string;
}

/** A stream record from GetRecords as the Lambda event source mapping passes it to the function. */
export function toLambdaRecord(record: _Record, opts: LambdaRecordOptions): DynamoDBRecord {
  const d = record.dynamodb;
  if (!record.eventID || !record.eventName || !d?.SequenceNumber) {
    throw new StreamEventError('stream-events: a stream record lacks eventID, eventName or dynamodb.SequenceNumber', { cause: { eventID: record.eventID, eventName: record.eventName, sequenceNumber: d?.SequenceNumber } });
  }
  const dynamodb: NonNullable<DynamoDBRecord['dynamodb']> = {
    ...(d.ApproximateCreationDateTime ? { ApproximateCreationDateTime: epochSeconds(d.ApproximateCreationDateTime) } : {}),
    ...(d.Keys ? { Keys: image(d.Keys) } : {}),
    ...(d.NewImage ? { NewImage: image(d.NewImage) } : {}),
    ...(d.OldImage ? { OldImage: image(d.OldImage) } : {}),
    SequenceNumber: d.SequenceNumber,
    ...(d.SizeBytes !== undefined ? { SizeBytes: d.SizeBytes } : {}),
    ...(d.StreamViewType ? { StreamViewType: d.StreamViewType } : {}),
  };
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: opts.awsRegion ?? 'us-east-1',
    dynamodb,
    eventSourceARN: opts.eventSourceARN,
    ...(record.userIdentity?.Type || record.userIdentity?.PrincipalId
      ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } }
      : {}),
  };
}

function epochSeconds(value: Date | number): number {
  // The SDK deserialises the wire's epoch seconds into a Date; Lambda passes the number.
  return Math.floor((value instanceof Date ? value.getTime() : value * 1000) / 1000);
}

function image(item: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, attribute(v)]));
}

function attribute(v: SdkAttributeValue): AttributeValue {
  const a = v as unknown as Record<string, unknown>;
  if (a.B instanceof Uint8Array) return { B: Buffer.from(a.B).toString('base64') };
  if (Array.isArray(a.BS)) return { BS: (a.BS as Uint8Array[]).map((b) => Buffer.from(b).toString('base64')) };
  if (a.M && typeof a.M === 'object') return { M: image(a.M as Record<string, SdkAttributeValue>) };
  if (Array.isArray(a.L)) return { L: (a.L as SdkAttributeValue[]).map(attribute) };
  return { ...(a as AttributeValue) };
}

// ---------------------------------------------------------------------------------------------
// 2. Event filtering

export type FilterPattern = { readonly [key: string]: unknown };

const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);

/** Parse and check a mapping's `FilterCriteria.Filters` (patterns are JSON strings). */
export function parseFilterCriteria(filterCriteria: unknown): FilterPattern[] {
  if (filterCriteria === undefined || filterCriteria === null) return [];
  const filters = (filterCriteria as { Filters?: unknown }).Filters;
  if (!Array.isArray(filters)) throw new StreamEventError('stream-events: FilterCriteria has no Filters list');
  return filters.map((f, i) => {
    const text = (f as { Pattern?: unknown }).Pattern;
    let pattern: unknown;
    try {
      pattern = typeof text === 'string' ? JSON.parse(text) : undefined;
    } catch (e) {
      throw new StreamEventError(`stream-events: filter ${i} is not JSON`, { cause: e });
    }
    checkPattern(pattern, `filter ${i}`);
    return pattern as FilterPattern;
  });
}

/** A record passes when there are no patterns or ANY pattern matches it. */
export function passesFilters(patterns: readonly FilterPattern[], record: unknown): boolean {
  return patterns.length === 0 || patterns.some((p) => matchesPattern(p, record));
}

/** Whether one (checked) pattern matches an event. */
export function matchesPattern(pattern: FilterPattern, event: unknown): boolean {
  for (const [key, node] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(node as FilterPattern[]).some((p) => matchesPattern(p, event))) return false;
      continue;
    }
    const present = isPlainObject(event) && Object.hasOwn(event, key);
    const value = present ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(node)) {
      if (!matchesField(node, present, value)) return false;
    } else if (Array.isArray(value)) {
      const objects = value.filter(isPlainObject);
      if (!(objects.length ? objects.some((o) => matchesPattern(node as FilterPattern, o)) : matchesPattern(node as FilterPattern, undefined))) return false;
    } else if (!matchesPattern(node as FilterPattern, value)) {
      return false;
    }
  }
  return true;
}

function matchesField(rules: readonly unknown[], present: boolean, value: unknown): boolean {
  // Only leaves count: an object is not a value a rule can match (event-ruler: exists on leaves only).
  const leaves = present ? (Array.isArray(value) ? value.flat(Infinity) : [value]).filter((v) => !isPlainObject(v)) : [];
  return rules.some((rule) => {
    if (isPlainObject(rule) && 'exists' in rule) return rule.exists === (leaves.length > 0);
    return leaves.some((v) => matchesValue(rule, v));
  });
}

function matchesValue(rule: unknown, v: unknown): boolean {
  if (!isPlainObject(rule)) return rule === v;
  const [op, arg] = Object.entries(rule)[0]!;
  switch (op) {
    case 'prefix': return typeof v === 'string' && (typeof arg === 'string' ? v.startsWith(arg) : v.toLowerCase().startsWith(ignoreCase(arg)));
    case 'suffix': return typeof v === 'string' && (typeof arg === 'string' ? v.endsWith(arg) : v.toLowerCase().endsWith(ignoreCase(arg)));
    case 'equals-ignore-case': return typeof v === 'string' && v.toLowerCase() === String(arg).toLowerCase();
    case 'wildcard': return typeof v === 'string' && wildcard(String(arg)).test(v);
    case 'numeric': return typeof v === 'number' && numeric(arg as unknown[], v);
    case 'anything-but': {
      if (typeof v !== 'string' && typeof v !== 'number') return false;
      if (isPlainObject(arg)) {
        const [inner, x] = Object.entries(arg)[0]!;
        const xs = (Array.isArray(x) ? x : [x]).map(String);
        if (typeof v !== 'string') return false;
        if (inner === 'prefix') return !xs.some((p) => v.startsWith(p));
        if (inner === 'suffix') return !xs.some((s) => v.endsWith(s));
        if (inner === 'equals-ignore-case') return !xs.some((s) => s.toLowerCase() === v.toLowerCase());
        return !xs.some((w) => wildcard(w).test(v));
      }
      return !(Array.isArray(arg) ? arg : [arg]).some((x) => x === v);
    }
    default: return false;
  }
}

function ignoreCase(arg: unknown): string {
  return String((arg as Record<string, unknown>)['equals-ignore-case']).toLowerCase();
}

function numeric(spec: readonly unknown[], v: number): boolean {
  for (let i = 0; i < spec.length; i += 2) {
    const n = spec[i + 1] as number;
    const ok = { '=': v === n, '<': v < n, '<=': v <= n, '>': v > n, '>=': v >= n }[spec[i] as '=' | '<' | '<=' | '>' | '>='];
    if (!ok) return false;
  }
  return true;
}

function wildcard(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) re += `\\${pattern[++i]}`;
    else if (c === '*') re += '.*';
    else re += c.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkPattern(pattern: unknown, where: string): void {
  const fail = (why: string): never => { throw new StreamEventError(`stream-events: ${where}: ${why}`); };
  if (!isPlainObject(pattern)) fail('a pattern is a JSON object');
  for (const [key, node] of Object.entries(pattern as Record<string, unknown>)) {
    const at = `${where}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(node) || node.length === 0 || !node.every(isPlainObject)) fail(`${at} must be a list of patterns`);
      (node as unknown[]).forEach((p, i) => checkPattern(p, `${at}[${i}]`));
    } else if (Array.isArray(node)) {
      if (node.length === 0) fail(`${at} has an empty list of rules`);
      node.forEach((rule) => checkRule(rule, at, fail));
    } else if (isPlainObject(node)) {
      checkPattern(node, at);
    } else {
      fail(`${at} must be a list of rules or a nested pattern`);
    }
  }
}

function checkRule(rule: unknown, at: string, fail: (why: string) => never): void {
  if (rule === null || ['string', 'number', 'boolean'].includes(typeof rule)) return;
  if (!isPlainObject(rule) || Object.keys(rule).length !== 1) fail(`${at}: a rule is a value or an object with one operator`);
  const [op, arg] = Object.entries(rule as Record<string, unknown>)[0]!;
  const str = (x: unknown) => typeof x === 'string';
  const strOrIgnoreCase = (x: unknown) => str(x) || (isPlainObject(x) && Object.keys(x).length === 1 && str(x['equals-ignore-case']));
  switch (op) {
    case 'prefix': case 'suffix':
      if (!strOrIgnoreCase(arg)) fail(`${at}: ${op} takes a string`);
      return;
    case 'equals-ignore-case': case 'wildcard':
      if (!str(arg)) fail(`${at}: ${op} takes a string`);
      if (op === 'wildcard' && /\*\*/.test(arg as string)) fail(`${at}: consecutive wildcards are not allowed`);
      return;
    case 'exists':
      if (typeof arg !== 'boolean') fail(`${at}: exists takes true or false`);
      return;
    case 'numeric': {
      const ok = Array.isArray(arg) && arg.length >= 2 && arg.length % 2 === 0
        && arg.every((x, i) => (i % 2 === 0 ? NUMERIC_OPS.has(x as string) : typeof x === 'number'));
      if (!ok) fail(`${at}: numeric takes [operator, number] pairs`);
      return;
    }
    case 'anything-but': {
      const scalar = (x: unknown) => typeof x === 'string' || typeof x === 'number';
      if (scalar(arg) || (Array.isArray(arg) && arg.length > 0 && arg.every(scalar))) return;
      if (isPlainObject(arg) && Object.keys(arg).length === 1) {
        const [inner, x] = Object.entries(arg)[0]!;
        const xs = Array.isArray(x) ? x : [x];
        if (['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(inner) && xs.length > 0 && xs.every(str)) return;
      }
      fail(`${at}: anything-but takes a value, a list, or prefix/suffix/equals-ignore-case/wildcard`);
      return;
    }
    default:
      fail(`${at}: operator '${op}' is not supported by the local event filter`);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. The mappings of the template

interface MappingBase {
  readonly logicalId: string;
  readonly functionLogicalId: string;
  /** The handler file the function runs (its `confluo:handler` metadata). */
  readonly handler: string;
  readonly enabled: boolean;
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  readonly functionResponseTypes: readonly string[];
  /** FunctionResponseTypes includes ReportBatchItemFailures (partial batch responses honoured). */
  readonly reportBatchItemFailures: boolean;
  readonly filterPatterns: readonly FilterPattern[];
}

export interface StreamEventSourceMapping extends MappingBase {
  readonly source: 'dynamodb';
  /** The table whose stream feeds the function. */
  readonly tableLogicalId: string;
  readonly startingPosition: string;
  readonly bisectBatchOnFunctionError: boolean;
  /** -1: retried until the record expires (Lambda's default). */
  readonly maximumRetryAttempts: number;
  /** -1: no limit (Lambda's default). */
  readonly maximumRecordAgeInSeconds: number;
  readonly parallelizationFactor: number;
  /** Where Lambda sends a failed batch's description, by logical id and resource type. */
  readonly onFailure: { readonly logicalId: string; readonly type: string } | null;
}

export interface QueueEventSourceMapping extends MappingBase {
  readonly source: 'sqs';
  readonly queueLogicalId: string;
  /** ScalingConfig.MaximumConcurrency, null when not set. */
  readonly maximumConcurrency: number | null;
}

/** Every Lambda event source mapping of the template, by kind of source. */
export function eventSourceMappingsOf(template: CfnTemplate): { streams: StreamEventSourceMapping[]; queues: QueueEventSourceMapping[] } {
  const streams: StreamEventSourceMapping[] = [];
  const queues: QueueEventSourceMapping[] = [];
  for (const [logicalId, resource] of resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')) {
    const p = resource.Properties ?? {};
    const fn = functionOf(template, p.FunctionName, `event source mapping ${logicalId}`);
    const sourceId = referencedLogicalId(p.EventSourceArn);
    const sourceType = sourceId === undefined ? undefined : template.Resources[sourceId]?.Type;
    const getAtt = (p.EventSourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
    const types = Array.isArray(p.FunctionResponseTypes) ? p.FunctionResponseTypes.map(String) : [];
    const num = (v: unknown, dflt: number) => (typeof v === 'number' ? v : dflt);
    const isStream = (sourceType === 'AWS::DynamoDB::Table' || sourceType === 'AWS::DynamoDB::GlobalTable') && getAtt?.[1] === 'StreamArn';
    const isQueue = sourceType === 'AWS::SQS::Queue';
    if (!isStream && !isQueue) {
      throw new StreamEventError(`stream-events: event source mapping ${logicalId} reads ${sourceType ?? 'an unknown source'}; only DynamoDB streams and SQS queues are emulated`, { cause: { eventSourceArn: p.EventSourceArn } });
    }
    const base: MappingBase = {
      logicalId,
      functionLogicalId: fn.logicalId,
      handler: fn.handler,
      enabled: p.Enabled !== false,
      // Defaults: 100 records for streams, 10 messages for queues.
      batchSize: num(p.BatchSize, isStream ? 100 : 10),
      maximumBatchingWindowInSeconds: num(p.MaximumBatchingWindowInSeconds, 0),
      functionResponseTypes: types,
      reportBatchItemFailures: types.includes('ReportBatchItemFailures'),
      filterPatterns: parseFilterCriteria(p.FilterCriteria),
    };
    if (isStream) {
      const destination = (p.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination;
      const destinationId = referencedLogicalId(destination);
      streams.push({
        ...base,
        source: 'dynamodb',
        tableLogicalId: sourceId!,
        startingPosition: typeof p.StartingPosition === 'string' ? p.StartingPosition : 'TRIM_HORIZON',
        bisectBatchOnFunctionError: p.BisectBatchOnFunctionError === true,
        maximumRetryAttempts: num(p.MaximumRetryAttempts, -1),
        maximumRecordAgeInSeconds: num(p.MaximumRecordAgeInSeconds, -1),
        parallelizationFactor: num(p.ParallelizationFactor, 1),
        onFailure: destinationId ? { logicalId: destinationId, type: template.Resources[destinationId]?.Type ?? 'unknown' } : null,
      });
    } else {
      queues.push({
        ...base,
        source: 'sqs',
        queueLogicalId: sourceId!,
        maximumConcurrency: num((p.ScalingConfig as { MaximumConcurrency?: unknown } | undefined)?.MaximumConcurrency, NaN) || null,
      });
    }
  }
  return { streams, queues };
}
