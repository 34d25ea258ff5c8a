/**
 * The local API Gateway: the HTTP APIs (API Gateway v2) of the SYNTHESISED template, answering
 * requests the way API Gateway does and building the payload-format-2.0 events the Lambdas'
 * `handler` exports receive in AWS. Routes, integrations, JWT authorizers and CORS come from
 * the template only, so a route that points at the wrong function, a missing route or a CORS
 * configuration that blocks the browser fails locally as it would when deployed.
 *
 * Transport-free: `HttpApiGateway.route()` takes a plain request (method, the path and query as
 * received, headers, body bytes, source IP) and either answers it itself (404, 401, a CORS
 * preflight, 413) or returns the function to invoke, its event and how to turn the function's
 * result into the HTTP response. The local server and the deployment test put their own
 * transport and invoker around it. All APIs of the template share one local origin, so their
 * routes must not collide (checked at construction).
 *
 * Behaviour and where it comes from (AWS docs unless said otherwise; where the docs are silent,
 * a measurement someone published, cited by repository and pull request or issue):
 * - Route selection (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
 *   "Routing API requests"): a full match beats a match with a greedy `{proxy+}`, which beats
 *   `$default`; among full or among greedy matches the more specific path wins, compared segment
 *   by segment from the left (literal > `{param}` > `{proxy+}`); then an explicit method beats
 *   `ANY`. `{name}` matches one non-empty segment, `{name+}` one or more (its value, slashes
 *   included, is passed as a path parameter — `proxy` for `{proxy+}`). No route →
 *   404 `{"message":"Not Found"}`.
 * - Trailing slash: significant. `POST /todos/` does not match the route `POST /todos` on an
 *   HTTP API (Powertools' end-to-end test against AWS, aws-powertools/powertools-lambda-python
 *   tests/e2e/event_handler/test_paths_ending_with_slash.py, expects the HTTP API to answer an
 *   error while the REST API routes it). An empty trailing segment matches neither `{id}` nor
 *   `{proxy+}` here (not measured).
 * - Percent-encoding: HTTP APIs decode the path before routing and pass it decoded as `rawPath`
 *   and `requestContext.http.path` (live capture: `/capture/space%20value` arrives as
 *   `"rawPath": "/capture/space value"`, hotsock/voker vokerhttp/testdata/apigwv2-request.json;
 *   also honojs/hono#2156, where `%2F` arrived as `/`). So `%2F` separates segments like `/`.
 *   Reported but not emulated: a decoded `?` truncating the path (middleapi/standard-server#93).
 *   A malformed escape (`%zz`) is answered 400 `{"message":"Bad Request"}` (assumption).
 *   `rawQueryString` is passed as received; `queryStringParameters` are decoded form-style
 *   (`+` is a space: `literalPlus=a+b` → `"a b"`, `encodedPlus=a%2Bb` → `"a+b"`, same capture),
 *   repeated keys joined with `,`.
 * - Headers: names lower-cased, repeated headers joined with `,` (capture: `"first,second"`);
 *   `Cookie` headers are removed from `headers` and split into `cookies` (capture; docs "Payload
 *   format differences"). API Gateway's own `x-forwarded-for`/`x-forwarded-proto`/
 *   `x-amzn-trace-id` are added when the request has none.
 * - Body: `isBase64Encoded` is false (body as UTF-8 text) only for `text/*`, `application/json`,
 *   `application/xml`, `application/javascript` and `application/graphql`, with no charset or a
 *   UTF-8 one; everything else — a missing Content-Type, `application/x-www-form-urlencoded`
 *   (Twilio), `multipart/form-data`, `application/octet-stream`, and the `+json` types such as
 *   `application/vnd.api+json` or `application/problem+json` — is base64. Measured against AWS in
 *   ministackorg/ministack#766 ("everything else ... is base64-encoded") and floci-io/floci#2203
 *   (its "measured AWS media matrix" adds `application/graphql` and refuses
 *   `text/plain; charset=iso-8859-1`); no source shows a `+json` type delivered as text. An empty
 *   body is omitted (no `body` key), `isBase64Encoded` false.
 * - Size: a body over 10 MB is refused at the edge with 413 `HTTP content length exceeded
 *   10485760 bytes.`; an event over Lambda's 6 MB synchronous payload limit with 413
 *   `{"message": "Request Too Long"}` (both bodies as observed in koki-develop/lgtm-generator#10).
 * - JWT routes (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html):
 *   the identity source header may hold the token alone or prefixed with `Bearer `; no token or a
 *   token the injected verifier refuses → 401 `{"message":"Unauthorized"}` and the function is
 *   not invoked. Claims reach the function as `requestContext.authorizer.jwt.claims` with every
 *   value a string: numbers and booleans stringified, arrays as `[a b]` (`cognito:groups`
 *   `["admin","supervisor"]` → `"[admin supervisor]"`), objects as JSON text, null claims left
 *   out; `jwt.scopes` is null unless the route has AuthorizationScopes, then the token's full
 *   scope list (`scp`, else `scope` split on spaces), and a token with none of the route's
 *   scopes gets 403 `{"message":"Forbidden"}` — all measured against a Cognito-backed HTTP API
 *   in floci-io/floci#2011 (tests JwtClaimsWireFormatTest, HttpApiJwtAuthorizerScopesTest).
 * - CORS (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html): with
 *   a CorsConfiguration, API Gateway answers an OPTIONS request itself — 204, and for an allowed
 *   Origin with an Access-Control-Request-Method the configured allow-origin (the request's
 *   Origin, or `*`), -allow-methods, -allow-headers, -max-age and -allow-credentials — but only
 *   when no route matches the OPTIONS request: an `ANY` route, an `OPTIONS` route or `$default`
 *   does match it and then runs its authorizer (so `ANY /api/v1/{proxy+}` with a JWT authorizer
 *   answers a browser's preflight 401: https://arpadt.com/articles/cors-in-http-api,
 *   https://cloudunfold.com/blog/api-gateway-http-api-with-cors-and-authorization). For a
 *   disallowed Origin, or without Access-Control-Request-Method, the preflight is answered 204
 *   without CORS headers (assumption: the docs only say CORS headers need both request headers).
 *   On every other response of such an API, CORS headers from the integration are dropped ("API
 *   Gateway ignores CORS headers returned from your backend integration") and, for an allowed
 *   Origin, allow-origin, expose-headers and allow-credentials are added — also on API Gateway's
 *   own 401/403/404/500 answers (assumption, unverified). No `vary` header is added (none seen in
 *   any source). Without a CorsConfiguration nothing is added or dropped and routes decide.
 * - Responses (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
 *   a result with `statusCode` is taken as `{statusCode, headers, cookies, body,
 *   isBase64Encoded}` (each cookie one `set-cookie`, before any `set-cookie` header — ministack's
 *   observation); any other result is 200 `application/json` with the result as body (a string
 *   as itself, anything else as JSON). The result goes through JSON first, as Lambda returns it.
 *   A thrown error, or a result API Gateway cannot read, → 500 `{"message":"Internal Server Error"}`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { functionOf, LOCAL_ACCOUNT as ACCOUNT, LOCAL_REGION as REGION, referencedLogicalId, resourcesOfType, type Template as CfnTemplate } from './template.js';
import { resolveIntrinsics } from './workflows.js';

// ---------------------------------------------------------------------------------------------
// The definitions, from the template

export type PathSegment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

export type RouteAuthorization =
  | { readonly type: 'NONE' }
  | {
      readonly type: 'JWT';
      readonly authorizerLogicalId: string;
      /** Header holding the token (lower-case), from IdentitySource `$request.header.X`. */
      readonly identityHeader: string;
      readonly issuer: string;
      readonly audience: readonly string[];
      /** The route's AuthorizationScopes (empty: none required). */
      readonly scopes: readonly string[];
    };

export interface HttpApiRoute {
  readonly logicalId: string;
  readonly apiLogicalId: string;
  /** As in the template: `POST /webhooks/{channel}`, `ANY /api/v1/{proxy+}` or `$default`. */
  readonly routeKey: string;
  /** Upper-case method or `ANY`; null for `$default`. */
  readonly method: string | null;
  /** Null for `$default`. */
  readonly segments: readonly PathSegment[] | null;
  readonly authorization: RouteAuthorization;
  readonly integrationLogicalId: string;
  readonly functionLogicalId: string;
  /** The handler file the function runs (its `confluo:handler` metadata). */
  readonly handler: string;
}

export interface CorsConfiguration {
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAge: number | null;
  readonly allowCredentials: boolean;
}

export interface HttpApiDefinition {
  readonly logicalId: string;
  readonly name: string;
  /** A stable 10-character id standing in for the API id AWS assigns. */
  readonly apiId: string;
  /**
   * Null: no CorsConfiguration. Origins are resolved with the local intrinsics, so one built
   * from another resource (the web inbox's CloudFront domain) reads
   * `https://arn:aws:local:::<Distribution>/DomainName`: replace it with the local origin.
   */
  readonly cors: CorsConfiguration | null;
  readonly routes: readonly HttpApiRoute[];
}

export class HttpApiError extends Error {
  override readonly name = 'HttpApiError';
}

/** Every HTTP API of a synthesised template, with its routes resolved to functions and handlers. */
export function loadHttpApis(template: CfnTemplate): HttpApiDefinition[] {
  const resolve = (node: unknown) => resolveIntrinsics(node, template as Parameters<typeof resolveIntrinsics>[1]);
  const apis = resourcesOfType(template, 'AWS::ApiGatewayV2::Api').filter(([, r]) => r.Properties?.ProtocolType === 'HTTP');
  const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
  const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route');

  return apis.map(([apiLogicalId, api]) => {
    const props = api.Properties ?? {};
    for (const unsupported of ['Body', 'BodyS3Location', 'Target']) {
      if (unsupported in props) throw new HttpApiError(`http-api: API ${apiLogicalId} uses ${unsupported}, which the local API Gateway does not read`);
    }
    // Paths are served at the root only through the $default stage; a named stage would prefix them.
    const ownStages = stages.filter(([, s]) => referencedLogicalId(s.Properties?.ApiId) === apiLogicalId);
    if (ownStages.length > 0 && !ownStages.some(([, s]) => s.Properties?.StageName === '$default')) {
      throw new HttpApiError(`http-api: API ${apiLogicalId} has no $default stage`, { cause: { stages: ownStages.map(([id]) => id) } });
    }
    const cors = props.CorsConfiguration === undefined ? null : corsOf(resolve(props.CorsConfiguration), apiLogicalId);
    const apiRoutes = routes
      .filter(([, r]) => referencedLogicalId(r.Properties?.ApiId) === apiLogicalId)
      .map(([routeLogicalId, r]) => routeOf(template, resolve, apiLogicalId, routeLogicalId, r.Properties ?? {}));
    return {
      logicalId: apiLogicalId,
      name: typeof props.Name === 'string' ? props.Name : apiLogicalId,
      apiId: createHash('sha256').update(apiLogicalId).digest('hex').slice(0, 10),
      cors,
      routes: apiRoutes,
    };
  });
}

function routeOf(template: CfnTemplate, resolve: (n: unknown) => unknown, apiLogicalId: string, logicalId: string, props: Record<string, unknown>): HttpApiRoute {
  const routeKey = props.RouteKey;
  if (typeof routeKey !== 'string') throw new HttpApiError(`http-api: route ${logicalId} has no RouteKey`);
  const { method, segments } = parseRouteKey(routeKey, logicalId);

  const integrationLogicalId = referencedLogicalId(props.Target);
  const integration = integrationLogicalId === undefined ? undefined : template.Resources[integrationLogicalId];
  if (!integrationLogicalId || integration?.Type !== 'AWS::ApiGatewayV2::Integration') {
    throw new HttpApiError(`http-api: route ${routeKey} (${logicalId}) has no integration target`, { cause: { target: props.Target } });
  }
  const ip = integration.Properties ?? {};
  if (ip.IntegrationType !== 'AWS_PROXY' || ip.PayloadFormatVersion !== '2.0') {
    throw new HttpApiError(`http-api: route ${routeKey} integrates as ${String(ip.IntegrationType)} payload ${String(ip.PayloadFormatVersion)}; only Lambda proxy with payload format 2.0 is emulated`);
  }
  const fn = functionOf(template, ip.IntegrationUri, `integration ${integrationLogicalId}`);

  const type = props.AuthorizationType ?? 'NONE';
  let authorization: RouteAuthorization;
  if (type === 'NONE') {
    authorization = { type: 'NONE' };
  } else if (type === 'JWT') {
    const authorizerLogicalId = referencedLogicalId(props.AuthorizerId);
    const authorizer = authorizerLogicalId === undefined ? undefined : template.Resources[authorizerLogicalId];
    if (!authorizerLogicalId || authorizer?.Type !== 'AWS::ApiGatewayV2::Authorizer' || authorizer.Properties?.AuthorizerType !== 'JWT') {
      throw new HttpApiError(`http-api: JWT route ${routeKey} has no JWT authorizer`, { cause: { authorizerId: props.AuthorizerId } });
    }
    const ap = authorizer.Properties;
    const sources = ap.IdentitySource as unknown;
    const source = Array.isArray(sources) && sources.length === 1 ? String(sources[0]) : '';
    const header = /^\$request\.header\.(.+)$/.exec(source)?.[1];
    if (!header) throw new HttpApiError(`http-api: authorizer ${authorizerLogicalId} takes its token from '${source}'; only one request header is emulated`);
    const jwt = resolve(ap.JwtConfiguration) as { Issuer?: unknown; Audience?: unknown } | undefined;
    authorization = {
      type: 'JWT',
      authorizerLogicalId,
      identityHeader: header.toLowerCase(),
      issuer: String(jwt?.Issuer ?? ''),
      audience: Array.isArray(jwt?.Audience) ? jwt.Audience.map(String) : [],
      scopes: Array.isArray(props.AuthorizationScopes) ? (resolve(props.AuthorizationScopes) as unknown[]).map(String) : [],
    };
  } else {
    throw new HttpApiError(`http-api: route ${routeKey} uses AuthorizationType ${String(type)}, which the local API Gateway does not emulate`);
  }
  return { logicalId, apiLogicalId, routeKey, method, segments, authorization, integrationLogicalId, functionLogicalId: fn.logicalId, handler: fn.handler };
}

function parseRouteKey(routeKey: string, logicalId: string): { method: string | null; segments: PathSegment[] | null } {
  if (routeKey === '$default') return { method: null, segments: null };
  const m = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
  if (!m) throw new HttpApiError(`http-api: route ${logicalId} has an unreadable RouteKey '${routeKey}'`);
  const parts = m[2]!.slice(1).split('/');
  const segments = parts.map((part, i): PathSegment => {
    const param = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(part);
    if (!param) {
      if (part.includes('{') || part.includes('}')) throw new HttpApiError(`http-api: route key '${routeKey}' has a path variable that is not a whole segment`);
      return { kind: 'literal', value: part };
    }
    if (param[2] === '+') {
      if (i !== parts.length - 1) throw new HttpApiError(`http-api: route key '${routeKey}' has a greedy variable before the end`);
      return { kind: 'greedy', name: param[1]! };
    }
    return { kind: 'param', name: param[1]! };
  });
  return { method: m[1]!, segments };
}

function corsOf(node: unknown, apiLogicalId: string): CorsConfiguration {
  const c = (node ?? {}) as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  const cors: CorsConfiguration = {
    allowOrigins: list(c.AllowOrigins),
    allowMethods: list(c.AllowMethods),
    allowHeaders: list(c.AllowHeaders),
    exposeHeaders: list(c.ExposeHeaders),
    maxAge: typeof c.MaxAge === 'number' ? c.MaxAge : null,
    allowCredentials: c.AllowCredentials === true,
  };
  // API Gateway refuses this configuration at deploy time (aws/aws-cdk#9076).
  if (cors.allowCredentials && cors.allowOrigins.includes('*')) throw new HttpApiError(`http-api: API ${apiLogicalId} allows credentials with origin '*'`);
  return cors;
}

// ---------------------------------------------------------------------------------------------
// Requests and responses

export interface HttpApiRequest {
  readonly method: string;
  /** The path as received (percent-encoded), without the query string. */
  readonly rawPath: string;
  /** Everything after the first `?`, as received; '' when none. */
  readonly rawQueryString: string;
  /** Header values as received; repeated headers as arrays (Node's `req.headersDistinct`). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Buffer;
  readonly sourceIp: string;
}

export interface HttpApiResponse {
  readonly statusCode: number;
  /** Lower-case names; `set-cookie` values are in `cookies`. */
  readonly headers: Record<string, string>;
  /** One `Set-Cookie` header each. */
  readonly cookies: string[];
  readonly body: Buffer;
}

export type HttpApiEvent = APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer;

export type RouteOutcome =
  | { readonly kind: 'respond'; readonly response: HttpApiResponse }
  | {
      readonly kind: 'invoke';
      readonly api: HttpApiDefinition;
      readonly route: HttpApiRoute;
      readonly functionLogicalId: string;
      readonly handler: string;
      readonly event: HttpApiEvent;
      /** The HTTP response for the function's result, as API Gateway maps it. */
      respond(result: unknown): HttpApiResponse;
      /** The HTTP response when the invocation failed (the function threw or timed out). */
      fail(error?: unknown): HttpApiResponse;
    };

/** Verifies a token for an authorizer's issuer and audience: its claims, or null to refuse it. */
export type JwtVerifier = (token: string, expected: { readonly issuer: string; readonly audience: readonly string[] }) => Promise<Record<string, unknown> | null> | Record<string, unknown> | null;

export interface HttpApiGatewayOptions {
  readonly verifyJwt: JwtVerifier;
  /** Clock for requestContext.time/timeEpoch (the runtime's virtual clock). Default Date.now. */
  readonly now?: () => number;
  /** `x-forwarded-proto` added when the request has none (API Gateway's is https). Default 'http'. */
  readonly forwardedProto?: string;
}

/** HTTP APIs refuse bodies over 10 MB (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html). */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Lambda's synchronous invocation payload limit (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;

const TEXT_TYPES = new Set(['application/json', 'application/xml', 'application/javascript', 'application/graphql']);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

type Match = { route: HttpApiRoute; api: HttpApiDefinition; params: Record<string, string> };

export class HttpApiGateway {
  private readonly routes: Array<{ route: HttpApiRoute; api: HttpApiDefinition }> = [];
  private readonly defaultRoute: { route: HttpApiRoute; api: HttpApiDefinition } | undefined;
  private readonly now: () => number;

  constructor(readonly apis: readonly HttpApiDefinition[], private readonly opts: HttpApiGatewayOptions) {
    this.now = opts.now ?? Date.now;
    const shapes = new Map<string, string>();
    const defaults: Array<{ route: HttpApiRoute; api: HttpApiDefinition }> = [];
    for (const api of apis) {
      for (const route of api.routes) {
        if (route.segments === null) { defaults.push({ route, api }); continue; }
        // Locally all APIs share one origin: two routes of the same shape would shadow each other.
        const shape = `${route.method} /${route.segments.map((s) => (s.kind === 'literal' ? s.value : s.kind === 'param' ? '{}' : '{+}')).join('/')}`;
        const other = shapes.get(shape);
        if (other) throw new HttpApiError(`http-api: routes ${other} and ${api.logicalId} '${route.routeKey}' collide on the shared local origin`);
        shapes.set(shape, `${api.logicalId} '${route.routeKey}'`);
        this.routes.push({ route, api });
      }
    }
    if (defaults.length > 1) throw new HttpApiError(`http-api: more than one API has a $default route (${defaults.map((d) => d.api.logicalId).join(', ')}); they would collide on the shared local origin`);
    this.defaultRoute = defaults[0];
  }

  /** Route a request: API Gateway's own answer, or the function to invoke with its event. */
  async route(req: HttpApiRequest): Promise<RouteOutcome> {
    const requestId = randomBytes(11).toString('base64');
    const { headers, cookies } = normalizeHeaders(req.headers);
    const origin = headers.origin;
    const method = req.method.toUpperCase();
    const respond = (response: HttpApiResponse): RouteOutcome => ({ kind: 'respond', response });

    if (req.body.length > MAX_BODY_BYTES) {
      return respond({ statusCode: 413, headers: { 'content-type': 'text; charset=utf-8', 'apigw-requestid': requestId }, cookies: [], body: Buffer.from(`HTTP content length exceeded ${MAX_BODY_BYTES} bytes.`) });
    }

    let path: string;
    try {
      path = decodeURIComponent(req.rawPath === '' ? '/' : req.rawPath);
    } catch {
      return respond(gatewayResponse(400, 'Bad Request', requestId));
    }
    const pathSegments = path.slice(1).split('/');

    let chosen: Match | undefined = this.bestMatch(method, pathSegments);
    const owner = chosen?.api ?? this.pathOwner(pathSegments);
    if (!chosen && this.defaultRoute && (!owner || owner === this.defaultRoute.api)) {
      chosen = { ...this.defaultRoute, params: {} };
    }
    const cors = (chosen?.api ?? owner)?.cors ?? null;
    const answer = (status: number, message: string) => respond(withCors(gatewayResponse(status, message, requestId), cors, origin));
    if (!chosen) {
      // API Gateway answers a preflight itself only when no route (ANY, OPTIONS, $default) matched it.
      if (method === 'OPTIONS' && cors) return respond(preflight(cors, origin, headers['access-control-request-method'], requestId));
      return answer(404, 'Not Found');
    }
    const { route, api, params } = chosen;

    let authorizer: { jwt: { claims: Record<string, string>; scopes: string[] | null } } | undefined;
    if (route.authorization.type === 'JWT') {
      const auth = route.authorization;
      const raw = headers[auth.identityHeader] ?? '';
      const token = raw.startsWith('Bearer ') ? raw.slice('Bearer '.length).trim() : raw.trim();
      if (token === '') return answer(401, 'Unauthorized');
      const claims = await this.opts.verifyJwt(token, { issuer: auth.issuer, audience: auth.audience });
      if (!claims) return answer(401, 'Unauthorized');
      let scopes: string[] | null = null;
      if (auth.scopes.length > 0) {
        const tokenScopes = scopesOf(claims);
        if (!tokenScopes?.some((s) => auth.scopes.includes(s))) return answer(403, 'Forbidden');
        scopes = tokenScopes;
      }
      authorizer = { jwt: { claims: stringifyClaims(claims), scopes } };
    }

    const eventHeaders: Record<string, string> = { ...headers };
    eventHeaders['x-forwarded-for'] ??= req.sourceIp;
    eventHeaders['x-forwarded-proto'] ??= this.opts.forwardedProto ?? 'http';
    const nowMs = this.now();
    eventHeaders['x-amzn-trace-id'] ??= `Root=1-${Math.floor(nowMs / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;

    const domainName = headers.host ?? `${api.apiId}.execute-api.${REGION}.amazonaws.com`;
    const query = parseQuery(req.rawQueryString);
    const event: Record<string, unknown> = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: path,
      rawQueryString: req.rawQueryString,
      ...(cookies.length ? { cookies } : {}),
      headers: eventHeaders,
      ...(query ? { queryStringParameters: query } : {}),
      requestContext: {
        accountId: ACCOUNT,
        apiId: api.apiId,
        ...(authorizer ? { authorizer } : {}),
        domainName,
        domainPrefix: domainName.split('.')[0]!,
        http: { method, path, protocol: 'HTTP/1.1', sourceIp: req.sourceIp, userAgent: headers['user-agent'] ?? '' },
        requestId,
        routeKey: route.routeKey,
        stage: '$default',
        time: clfTime(nowMs),
        timeEpoch: nowMs,
      },
      ...(Object.keys(params).length ? { pathParameters: params } : {}),
      isBase64Encoded: false,
    };
    if (req.body.length > 0) {
      const text = isTextContentType(headers['content-type']);
      event.body = text ? req.body.toString('utf8') : req.body.toString('base64');
      event.isBase64Encoded = !text;
    }
    if (Buffer.byteLength(JSON.stringify(event)) > MAX_EVENT_BYTES) {
      return respond(withCors({ statusCode: 413, headers: { 'content-type': 'application/json', 'apigw-requestid': requestId }, cookies: [], body: Buffer.from('{"message": "Request Too Long"}') }, cors, origin));
    }

    return {
      kind: 'invoke',
      api,
      route,
      functionLogicalId: route.functionLogicalId,
      handler: route.handler,
      event: event as unknown as HttpApiEvent,
      respond: (result) => withCors(integrationResponse(result, requestId), cors, origin),
      fail: () => withCors(gatewayResponse(500, 'Internal Server Error', requestId), cors, origin),
    };
  }

  /** Route, invoke the chosen function with `invoke`, and map its result (or failure) to the response. */
  async handle(req: HttpApiRequest, invoke: (target: { functionLogicalId: string; handler: string }, event: HttpApiEvent) => Promise<unknown>): Promise<HttpApiResponse> {
    const outcome = await this.route(req);
    if (outcome.kind === 'respond') return outcome.response;
    let result: unknown;
    try {
      result = await invoke(outcome, outcome.event);
    } catch (e) {
      return outcome.fail(e);
    }
    return outcome.respond(result);
  }

  /** The most specific route matching method and path (`$default` aside), over all APIs. */
  private bestMatch(method: string, pathSegments: readonly string[]): Match | undefined {
    let best: Match | undefined;
    for (const { route, api } of this.routes) {
      if (route.method !== method && route.method !== 'ANY') continue;
      const params = matchSegments(route.segments!, pathSegments);
      if (!params) continue;
      if (!best || compareRoutes(route, best.route) > 0) best = { route, api, params };
    }
    return best;
  }

  /** The API a path belongs to whatever the method (for API Gateway's own answers and preflights). */
  private pathOwner(pathSegments: readonly string[]): HttpApiDefinition | undefined {
    let best: { route: HttpApiRoute; api: HttpApiDefinition } | undefined;
    for (const entry of this.routes) {
      if (!matchSegments(entry.route.segments!, pathSegments)) continue;
      if (!best || compareSpecificity(entry.route.segments!, best.route.segments!) > 0) best = entry;
    }
    return best?.api ?? this.defaultRoute?.api;
  }
}

// ---------------------------------------------------------------------------------------------
// Routing

function matchSegments(segments: readonly PathSegment[], path: readonly string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.kind === 'greedy') {
      const rest = path.slice(i).join('/');
      if (rest === '') return null;
      params[s.name] = rest;
      return params;
    }
    const value = path[i];
    if (value === undefined) return null;
    if (s.kind === 'literal') {
      if (value !== s.value) return null;
    } else {
      if (value === '') return null;
      params[s.name] = value;
    }
  }
  return path.length === segments.length ? params : null;
}

const WEIGHT = { literal: 2, param: 1, greedy: 0 } as const;

/** > 0 when `a` is the more specific path: no greedy variable first, then segment by segment. */
function compareSpecificity(a: readonly PathSegment[], b: readonly PathSegment[]): number {
  const greedy = (s: readonly PathSegment[]) => (s.at(-1)?.kind === 'greedy' ? 1 : 0);
  if (greedy(a) !== greedy(b)) return greedy(b) - greedy(a);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = WEIGHT[a[i]!.kind] - WEIGHT[b[i]!.kind];
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function compareRoutes(a: HttpApiRoute, b: HttpApiRoute): number {
  const d = compareSpecificity(a.segments!, b.segments!);
  if (d !== 0) return d;
  return (a.method === 'ANY' ? 0 : 1) - (b.method === 'ANY' ? 0 : 1);
}

// ---------------------------------------------------------------------------------------------
// Event pieces

function normalizeHeaders(raw: HttpApiRequest['headers']): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...value];
    const key = name.toLowerCase();
    if (key === 'cookie') {
      cookies.push(...values.flatMap((v) => v.split(';')).map((c) => c.trim()).filter((c) => c !== ''));
      continue;
    }
    headers[key] = headers[key] === undefined ? values.join(',') : `${headers[key]},${values.join(',')}`;
  }
  return { headers, cookies };
}

function parseQuery(raw: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const decode = (s: string) => {
    const plus = s.replace(/\+/g, ' ');
    try { return decodeURIComponent(plus); } catch { return plus; }
  };
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    out[key] = out[key] === undefined ? value : `${out[key]},${value}`;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Whether API Gateway passes a body of this Content-Type as text (else base64; see the header). */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';');
  const media = type!.trim().toLowerCase();
  if (!media.startsWith('text/') && !TEXT_TYPES.has(media)) return false;
  const charset = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

/** Claims as API Gateway's JWT authorizer passes them to a payload-2.0 integration (see the header). */
export function stringifyClaims(claims: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const item = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  for (const [name, value] of Object.entries(claims)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'string') out[name] = value;
    else if (Array.isArray(value)) out[name] = `[${value.map(item).join(' ')}]`;
    else if (typeof value === 'object') out[name] = JSON.stringify(value);
    else out[name] = String(value);
  }
  return out;
}

/** The token's scopes: the `scp` claim, else `scope` (array, or a space-separated string). */
function scopesOf(claims: Record<string, unknown>): string[] | null {
  for (const key of ['scp', 'scope']) {
    const v = claims[key];
    if (Array.isArray(v) && v.length) return v.map(String);
    if (typeof v === 'string' && v.trim() !== '') return v.trim().split(/\s+/);
  }
  return null;
}

/** `06/Dec/2026:22:33:38 +0000`. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

// ---------------------------------------------------------------------------------------------
// Responses

function gatewayResponse(statusCode: number, message: string, requestId: string): HttpApiResponse {
  return { statusCode, headers: { 'content-type': 'application/json', 'apigw-requestid': requestId }, cookies: [], body: Buffer.from(JSON.stringify({ message })) };
}

function allowedOrigin(cors: CorsConfiguration, origin: string | undefined): string | undefined {
  if (cors.allowOrigins.includes('*')) return '*';
  if (!origin) return undefined;
  return cors.allowOrigins.some((o) => o.toLowerCase() === origin.toLowerCase()) ? origin : undefined;
}

function preflight(cors: CorsConfiguration, origin: string | undefined, requestMethod: string | undefined, requestId: string): HttpApiResponse {
  const headers: Record<string, string> = { 'apigw-requestid': requestId };
  const allow = origin && requestMethod ? allowedOrigin(cors, origin) : undefined;
  if (allow) {
    headers['access-control-allow-origin'] = allow;
    if (cors.allowMethods.length) headers['access-control-allow-methods'] = cors.allowMethods.join(',');
    if (cors.allowHeaders.length) headers['access-control-allow-headers'] = cors.allowHeaders.join(',');
    if (cors.maxAge !== null) headers['access-control-max-age'] = String(cors.maxAge);
    if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
  }
  return { statusCode: 204, headers, cookies: [], body: Buffer.alloc(0) };
}

function withCors(response: HttpApiResponse, cors: CorsConfiguration | null, origin: string | undefined): HttpApiResponse {
  if (!cors) return response;
  const headers = Object.fromEntries(Object.entries(response.headers).filter(([name]) => !name.startsWith('access-control-')));
  const allow = allowedOrigin(cors, origin);
  if (allow) {
    headers['access-control-allow-origin'] = allow;
    if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
    if (cors.exposeHeaders.length) headers['access-control-expose-headers'] = cors.exposeHeaders.join(',');
  }
  return { ...response, headers };
}

function integrationResponse(result: unknown, requestId: string): HttpApiResponse {
  let payload: unknown;
  try {
    // Lambda hands API Gateway the JSON of the result.
    payload = JSON.parse(JSON.stringify(result ?? null) ?? 'null');
  } catch {
    return gatewayResponse(500, 'Internal Server Error', requestId);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || !('statusCode' in payload)) {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return { statusCode: 200, headers: { 'content-type': 'application/json', 'apigw-requestid': requestId }, cookies: [], body: Buffer.from(body) };
  }
  const r = payload as { statusCode: unknown; headers?: unknown; cookies?: unknown; body?: unknown; isBase64Encoded?: unknown };
  const malformed = () => gatewayResponse(500, 'Internal Server Error', requestId);
  if (typeof r.statusCode !== 'number' || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) return malformed();
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return malformed();
  if (r.cookies !== undefined && (!Array.isArray(r.cookies) || !r.cookies.every((c) => typeof c === 'string'))) return malformed();
  if (r.headers !== undefined && (typeof r.headers !== 'object' || r.headers === null || Array.isArray(r.headers))) return malformed();

  const headers: Record<string, string> = {};
  const headerCookies: string[] = [];
  for (const [name, value] of Object.entries((r.headers ?? {}) as Record<string, unknown>)) {
    if (value === null || typeof value === 'object') return malformed();
    if (name.toLowerCase() === 'set-cookie') headerCookies.push(String(value));
    else headers[name.toLowerCase()] = String(value);
  }
  headers['apigw-requestid'] = requestId;
  const text = typeof r.body === 'string' ? r.body : '';
  const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { statusCode: r.statusCode, headers, cookies: [...((r.cookies as string[] | undefined) ?? []), ...headerCookies], body };
}

