/**
 * A typed route table: every route declares its role, params, query, body and response schemas.
 * The same table validates requests, dispatches (through @middy/http-router) and generates the
 * OpenAPI 3.1 document — one source of truth.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import httpRouterHandler from '@middy/http-router';
import { z } from 'zod';
import { HttpError, errorResponse, jsonResponse } from '../../runtime/http.js';
import { CursorError } from '../../store/reads.js';
import { ErrorBody } from './schemas.js';

export const ROLES = ['agent', 'supervisor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  readonly sub: string;
  readonly role: Role;
  /**
   * Display name claim (`name`), when the token has one: in AWS the Cognito attribute an admin
   * sets — the app client may not write it (lib/agent-api.ts `writeAttributes`), so an agent
   * cannot sign replies as someone else.
   */
  readonly name?: string;
}

export interface RouteInput<P, Q, B> { readonly params: P; readonly query: Q; readonly body: B; readonly caller: Caller; readonly event: APIGatewayProxyEventV2 }
export interface RouteOutput { readonly status: number; readonly body: unknown; readonly headers?: Readonly<Record<string, string>> }

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under /api/v1, with `{name}` parameters. */
  readonly path: string;
  readonly summary: string;
  /** Lowest role allowed (agent < supervisor < admin); null = public. */
  readonly role: Role | null;
  readonly params?: z.ZodType<P>;
  readonly query?: z.ZodType<Q>;
  readonly body?: z.ZodType<B>;
  readonly responses: Readonly<Record<number, z.ZodType>>;
  readonly handle: (input: RouteInput<P, Q, B>) => Promise<RouteOutput>;
}

export const route = <P, Q, B>(def: RouteDef<P, Q, B>): RouteDef => def as unknown as RouteDef;

export const API_PREFIX = '/api/v1';

const rank = (r: Role) => ROLES.indexOf(r);

/**
 * The `cognito:groups` claim as a list. API Gateway's JWT authorizer hands array claims to the
 * function as one string, `"[admin supervisor]"` (members separated by spaces; Cognito group
 * names cannot contain whitespace, but may contain commas, so a comma never splits); a JSON array
 * (as a direct invocation or a test may pass) is taken as it is.
 */
export function groupsOf(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.filter((g): g is string => typeof g === 'string');
  if (typeof raw !== 'string') return [];
  const s = raw.trim();
  if (s.startsWith('["')) {
    try {
      const parsed: unknown = JSON.parse(s);
      if (Array.isArray(parsed)) return parsed.filter((g): g is string => typeof g === 'string');
    } catch {
      // not JSON: the API Gateway form below
    }
  }
  return s.replace(/^\[/, '').replace(/\]$/, '').split(/\s+/).filter((g) => g !== '');
}

/** The highest of the roles named by `cognito:groups`, or null. */
export function roleOfGroups(raw: unknown): Role | null {
  const roles = groupsOf(raw).filter((g): g is Role => (ROLES as readonly string[]).includes(g));
  return roles.length === 0 ? null : roles.sort((a, b) => rank(b) - rank(a))[0]!;
}

/**
 * The caller as the JWT authoriser left it. Only `cognito:groups` decides the role — in AWS
 * only an admin puts a user in a group, while attributes such as `custom:role` (and a bare
 * `role` claim) may be writable by the user through the app client; the local dev tokens carry
 * `cognito:groups` too (local/agent-auth.ts), so one rule serves both.
 */
export function callerOf(event: APIGatewayProxyEventV2): Caller | null {
  const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }).authorizer?.jwt?.claims;
  if (!claims || typeof claims.sub !== 'string') return null;
  const role = roleOfGroups(claims['cognito:groups']);
  if (role === null) return null;
  return { sub: claims.sub, role, ...(typeof claims.name === 'string' && claims.name !== '' ? { name: claims.name } : {}) };
}

function issues(where: string, e: z.ZodError): string {
  return e.issues.slice(0, 5).map((i) => `${where}${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`).join('; ');
}

function parseWith<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, 'invalid', issues(where, r.error));
  return r.data;
}

function toResult(def: RouteDef, run: (event: APIGatewayProxyEventV2) => Promise<RouteOutput>) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      const out = await run(event);
      return jsonResponse(out.status, out.body, { ...(out.headers ?? {}) });
    } catch (e) {
      return errorToResult(e, def);
    }
  };
}

export function errorToResult(e: unknown, def?: RouteDef): APIGatewayProxyStructuredResultV2 {
  if (e instanceof HttpError) return errorResponse(e.status, e.code, e.message);
  if (e instanceof CursorError) return errorResponse(400, 'invalid', e.message);
  const status = (e as { statusCode?: number })?.statusCode;
  if (status === 404) return errorResponse(404, 'not_found', 'no such route');
  if ((e as Error)?.message === 'Method not allowed') return errorResponse(405, 'method_not_allowed', 'method not allowed');
  throw Object.assign(new Error(`agent-api route ${def?.method ?? '?'} ${def?.path ?? '?'} failed`, { cause: e }), { name: 'AgentApiError' });
}

/**
 * The path parameters the route declares, and only those. API Gateway adds the parameters of the
 * gateway route it matched (a greedy `{proxy+}` route passes `proxy: "tickets/…"`); the route's
 * strict schema must not see them.
 */
function declaredParams(path: string, given: APIGatewayProxyEventV2['pathParameters']): Record<string, string | undefined> {
  const names = [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]!);
  return Object.fromEntries(names.filter((n) => given?.[n] !== undefined).map((n) => [n, given![n]]));
}

function decodeJsonBody(event: APIGatewayProxyEventV2): unknown {
  if (!event.body) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'malformed', 'body is not valid JSON');
  }
}

export function buildRouter(routes: readonly RouteDef[]) {
  const middyRoutes = routes.map((def) => ({
    method: def.method,
    path: API_PREFIX + def.path,
    handler: toResult(def, async (event) => {
      let caller: Caller = { sub: 'anonymous', role: 'agent' };
      if (def.role !== null) {
        const c = callerOf(event);
        if (!c) throw new HttpError(401, 'unauthorized', 'a valid bearer token is required');
        if (rank(c.role) < rank(def.role)) throw new HttpError(403, 'forbidden', `requires role ${def.role}`);
        caller = c;
      }
      const params = parseWith(def.params, declaredParams(def.path, event.pathParameters), 'path');
      const query = parseWith(def.query, event.queryStringParameters ?? {}, 'query');
      const body = def.body ? parseWith(def.body, decodeJsonBody(event), 'body') : undefined;
      return def.handle({ params, query, body, caller, event });
    }),
  }));
  const router = httpRouterHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(middyRoutes as never);
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      return (await router(event, {} as never)) as APIGatewayProxyStructuredResultV2;
    } catch (e) {
      return errorToResult(e);
    }
  };
}

/** OpenAPI 3.1 from the route table (zod → JSON Schema draft 2020-12, which 3.1 uses). */
export function openApiDocument(routes: readonly RouteDef[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, unknown> = {};
  // Schemas with a `.meta({ id })` become components; inline schemas keep their own shape.
  const convert = (schema: z.ZodType, io: 'input' | 'output') => {
    const js = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io }) as Record<string, unknown>;
    const { $schema: _s, $defs, ...rest } = js as { $schema?: string; $defs?: Record<string, unknown> };
    const rewrite = <T>(v: T): T => JSON.parse(JSON.stringify(v).replaceAll('"#/$defs/', '"#/components/schemas/'));
    for (const [id, def] of Object.entries($defs ?? {})) components[id] ??= rewrite(def);
    return rewrite(rest);
  };
  const schemaOf = (s: z.ZodType) => convert(s, 'output');
  const inputSchemaOf = (s: z.ZodType) => convert(s, 'input');
  for (const def of routes) {
    const path = API_PREFIX + def.path;
    const parameters: unknown[] = [];
    for (const [where, schema] of [['path', def.params], ['query', def.query]] as const) {
      if (!schema) continue;
      const js = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any', io: 'input' }) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {})) {
        parameters.push({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: s });
      }
    }
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(def.responses)) {
      responses[status] = { description: Number(status) < 300 ? 'OK' : 'Error', content: { 'application/json': { schema: schemaOf(schema) } } };
    }
    if (def.role !== null) {
      responses['401'] = { description: 'missing or invalid token', content: { 'application/json': { schema: schemaOf(ErrorBody) } } };
      responses['403'] = { description: 'role too low', content: { 'application/json': { schema: schemaOf(ErrorBody) } } };
    }
    if (def.params || def.query || def.body) responses['400'] = { description: 'invalid request', content: { 'application/json': { schema: schemaOf(ErrorBody) } } };
    (paths[path] ??= {})[def.method.toLowerCase()] = {
      summary: def.summary,
      ...(def.role !== null ? { security: [{ bearer: [] }], 'x-confluo-role': def.role } : { security: [] }),
      ...(parameters.length ? { parameters } : {}),
      ...(def.body ? { requestBody: { required: true, content: { 'application/json': { schema: inputSchemaOf(def.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: '/' }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } }, schemas: components },
    paths,
  };
}
