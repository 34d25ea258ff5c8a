/**
 * API Gateway HTTP APIs in front of the function hosts, behind ONE small interface
 * (`HttpGateway.request`) so the scenario never builds events itself. This phase-1 stand-in reads
 * the template's routes (`AWS::ApiGatewayV2::Route` → integration → function) and builds payload
 * format 2.0 events the way API Gateway documents them; another piece of work
 * (`local/http-api.ts`: exact routing priority, JWT validation, CORS preflights, base64 rules)
 * replaces it without touching the scenarios.
 *
 * What it does, per https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * and https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html:
 * - route selection: exact path, then paths with `{var}`, then greedy `{proxy+}`, then `$default`;
 *   a route for the request's method before `ANY`; `pathParameters` as matched (`proxy` included);
 * - headers lower-cased, duplicate query keys joined with commas, `rawPath`/`rawQueryString`;
 * - the body as text for text-like content types, base64 (`isBase64Encoded: true`) otherwise;
 * - JWT routes: no `Authorization` header → 401 from the gateway; with one, the scenario's
 *   `claims` are passed as API Gateway passes them — every value a string, arrays as `[a b]`
 *   (the token itself is not validated here);
 * - CORS (the API's CorsConfiguration): a preflight no route takes is answered by the gateway;
 *   responses to requests with an allowed Origin carry the configured headers;
 * - the function's result: `{statusCode, headers, body, isBase64Encoded, cookies}`, or any other
 *   JSON value as a 200 application/json body; a function error or timeout → 500/503 from the
 *   gateway (`{"message":"Internal Server Error"}`).
 */
import { randomUUID } from 'node:crypto';
import type { Template } from '../support/assembly.js';
import type { PhysicalResources } from './resources.js';

export interface GatewayRequest {
  readonly method: string;
  /** Path with an optional query string, e.g. `/webhooks/telegram` or `/api/v1/tickets?status=new`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** JWT claims of a valid token (routes with a JWT authorizer), as the token carries them. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface GatewayResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The route API Gateway chose (`POST /webhooks/{channel}`), or null when it answered itself. */
  readonly routeKey: string | null;
}

export interface HttpGateway {
  request(req: GatewayRequest): Promise<GatewayResponse>;
}

/** Invokes a function by its logical id (the host does the rest). */
export type InvokeFunction = (logicalId: string, event: unknown) => Promise<unknown>;

interface Route {
  readonly apiId: string;
  readonly key: string;
  readonly method: string;
  readonly segments: readonly string[] | null;
  readonly functionId: string;
  readonly jwt: boolean;
  readonly tier: number;
}

interface Cors {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAge?: number;
  readonly allowCredentials: boolean;
}

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
}

/** The text-like content types passed as text; anything else arrives base64-encoded. */
const TEXT_TYPES = /^(text\/[^;]+|application\/(json|[^;]*\+json|xml|[^;]*\+xml|javascript))(\s*;.*)?$/i;

export function templateGateway(template: Template, phys: PhysicalResources, invoke: InvokeFunction, opts: { region: string; account: string }): HttpGateway {
  const routes: Route[] = [];
  const cors = new Map<string, Cors | undefined>();
  for (const [apiId, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::ApiGatewayV2::Api') continue;
    const c = r.Properties?.CorsConfiguration as Record<string, unknown> | undefined;
    cors.set(apiId, c ? {
      allowOrigins: (phys.resolve(c.AllowOrigins ?? []) as string[]), allowMethods: (c.AllowMethods as string[] | undefined) ?? [],
      allowHeaders: ((c.AllowHeaders as string[] | undefined) ?? []).map((h) => h.toLowerCase()), exposeHeaders: (c.ExposeHeaders as string[] | undefined) ?? [],
      ...(c.MaxAge !== undefined ? { maxAge: Number(c.MaxAge) } : {}), allowCredentials: c.AllowCredentials === true,
    } : undefined);
  }
  for (const [, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::ApiGatewayV2::Route') continue;
    const p = r.Properties ?? {};
    const apiId = (p.ApiId as { Ref: string }).Ref;
    // Target: { 'Fn::Join': ['', ['integrations/', { Ref: <integration> }]] }
    const integrationId = (p.Target as { 'Fn::Join': [string, [string, { Ref: string }]] })['Fn::Join'][1][1].Ref;
    const integration = template.Resources[integrationId]?.Properties ?? {};
    if (integration.PayloadFormatVersion !== '2.0') throw new GatewayError(`gateway: route ${String(p.RouteKey)} uses payload format ${String(integration.PayloadFormatVersion)}; only 2.0 is emulated`);
    const functionId = (integration.IntegrationUri as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const key = String(p.RouteKey);
    const [method, path] = key === '$default' ? ['ANY', null] : key.split(' ') as [string, string];
    const segments = path === null ? null : path.split('/').filter(Boolean);
    const tier = segments === null ? 3 : segments.some((s) => s.endsWith('+}')) ? 2 : segments.some((s) => s.startsWith('{')) ? 1 : 0;
    routes.push({ apiId, key, method, segments, functionId, jwt: p.AuthorizationType === 'JWT', tier });
  }

  function match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
    const parts = path.split('/').filter(Boolean);
    const candidates: Array<{ route: Route; params: Record<string, string> }> = [];
    for (const route of routes) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const params = route.segments === null ? {} : matchSegments(route.segments, parts);
      if (params) candidates.push({ route, params });
    }
    const literals = (r: Route) => r.segments?.filter((s) => !s.startsWith('{')).length ?? 0;
    candidates.sort((a, b) => a.route.tier - b.route.tier || Number(a.route.method === 'ANY') - Number(b.route.method === 'ANY') || literals(b.route) - literals(a.route));
    return candidates[0];
  }

  return {
    async request(req): Promise<GatewayResponse> {
      const method = req.method.toUpperCase();
      const [rawPath, rawQuery = ''] = req.path.split(/\?(.*)/s) as [string, string?];
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = headers[k.toLowerCase()] ? `${headers[k.toLowerCase()]},${v}` : v;
      const found = match(method, rawPath);
      const apiCors = found ? cors.get(found.route.apiId) : [...cors.values()].find(Boolean);
      const origin = headers.origin;
      const corsHeaders = (c: Cors | undefined): Record<string, string> => {
        if (!c || !origin || !(c.allowOrigins.includes('*') || c.allowOrigins.includes(origin))) return {};
        return {
          'access-control-allow-origin': c.allowOrigins.includes('*') && !c.allowCredentials ? '*' : origin,
          ...(c.exposeHeaders.length ? { 'access-control-expose-headers': c.exposeHeaders.join(',') } : {}),
          ...(c.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
        };
      };
      // A preflight that no route takes is answered by the gateway from the CORS configuration.
      if (method === 'OPTIONS' && headers['access-control-request-method'] && (!found || found.route.segments === null) && apiCors) {
        return {
          status: 204, routeKey: null,
          headers: { ...corsHeaders(apiCors), 'access-control-allow-methods': apiCors.allowMethods.join(','), 'access-control-allow-headers': apiCors.allowHeaders.join(','), ...(apiCors.maxAge !== undefined ? { 'access-control-max-age': String(apiCors.maxAge) } : {}) },
          body: '',
        };
      }
      if (!found) return { status: 404, headers: { 'content-type': 'application/json' }, body: '{"message":"Not Found"}', routeKey: null };
      const { route, params } = found;
      const c = cors.get(route.apiId);
      if (route.jwt && !headers.authorization) return { status: 401, headers: { 'content-type': 'application/json', ...corsHeaders(c) }, body: '{"message":"Unauthorized"}', routeKey: route.key };
      const apiId = phys.ref(route.apiId);
      const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
      const text = body !== undefined && TEXT_TYPES.test(headers['content-type'] ?? '');
      const query: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(rawQuery)) query[k] = query[k] !== undefined ? `${query[k]},${v}` : v;
      const now = new Date();
      const event = {
        version: '2.0', routeKey: route.key, rawPath, rawQueryString: rawQuery,
        ...(headers.cookie ? { cookies: headers.cookie.split(/;\s*/) } : {}),
        headers: Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'cookie')),
        ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
        requestContext: {
          accountId: opts.account, apiId, domainName: `${apiId}.execute-api.${opts.region}.amazonaws.com`, domainPrefix: apiId,
          http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: headers['user-agent'] ?? '' },
          requestId: randomUUID().slice(0, 18).replace(/-/g, ''), routeKey: route.key, stage: '$default',
          time: now.toUTCString(), timeEpoch: now.getTime(),
          ...(route.jwt ? { authorizer: { jwt: { claims: stringClaims(req.claims ?? {}), scopes: null } } } : {}),
        },
        ...(Object.keys(params).length ? { pathParameters: params } : {}),
        ...(body !== undefined && body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
        isBase64Encoded: body !== undefined && body.length > 0 && !text,
      };
      let result: unknown;
      try {
        result = await invoke(route.functionId, event);
      } catch (e) {
        const timedOut = (e as { error?: { errorType?: string } }).error?.errorType === 'Sandbox.Timedout';
        return { status: timedOut ? 503 : 500, headers: { 'content-type': 'application/json', ...corsHeaders(c) }, body: timedOut ? '{"message":"Service Unavailable"}' : '{"message":"Internal Server Error"}', routeKey: route.key };
      }
      return { ...toResponse(result, c ? corsHeaders(c) : {}), routeKey: route.key };
    },
  };
}

/** `{name}` segments bind one path part, a final `{name+}` the rest (at least one part). */
function matchSegments(segments: readonly string[], parts: readonly string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.endsWith('+}')) {
      if (i !== segments.length - 1 || parts.length <= i) return null;
      params[seg.slice(1, -2)] = parts.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    if (i >= parts.length) return null;
    if (seg.startsWith('{')) params[seg.slice(1, -1)] = decodeURIComponent(parts[i]!);
    else if (seg !== parts[i]) return null;
  }
  return parts.length === segments.length ? params : null;
}

/** API Gateway passes JWT claims to the function as strings; arrays as `[a b]`. */
export function stringClaims(claims: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(' ')}]` : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)]));
}

function toResponse(result: unknown, cors: Record<string, string>): Omit<GatewayResponse, 'routeKey'> {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    const r = result as { statusCode: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean; cookies?: string[] };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
    if (r.cookies?.length) headers['set-cookie'] = r.cookies.join(', ');
    // With CORS configured, API Gateway replaces the integration's CORS headers with its own.
    if (Object.keys(cors).length) for (const k of Object.keys(headers)) if (k.startsWith('access-control-')) delete headers[k];
    const body = r.body === undefined ? '' : r.isBase64Encoded ? Buffer.from(r.body, 'base64').toString('utf8') : r.body;
    return { status: r.statusCode, headers: { ...headers, ...cors }, body };
  }
  return { status: 200, headers: { 'content-type': 'application/json', ...cors }, body: JSON.stringify(result) };
}
