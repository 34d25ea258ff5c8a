/**
 * The local API Gateway (local/http-api.ts): routing, JWT authorizers, CORS, the payload-2.0
 * event and the response mapping, against the SYNTHESISED Confluo template and against small
 * synthetic templates for shapes today's stack does not have (explicit method routes with CORS,
 * `$default`, scopes). Token verification is injected: here a table of known tokens.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { HANDLER_METADATA_KEY as LIB_HANDLER_METADATA_KEY } from '../../lib/confluo-function.js';
import { HANDLER_METADATA_KEY, type TemplateResource as CfnResource, type Template as CfnTemplate } from '../../local/template.js';
import {
  HttpApiGateway, loadHttpApis, MAX_BODY_BYTES, type HttpApiDefinition, type HttpApiRequest, type HttpApiResponse, type JwtVerifier, type RouteOutcome,
} from '../../local/http-api.js';
import { synthConfluo } from '../infra/helpers.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

const TOKENS: Record<string, Record<string, unknown>> = {
  'agent-token': { sub: 'u-1', 'cognito:groups': ['admin'], token_use: 'id', exp: 1_790_000_000, email_verified: true, nickname: null },
  'two-groups': { sub: 'u-2', 'cognito:groups': ['admin', 'supervisor'] },
  'scoped': { sub: 'u-3', scope: 'tickets/read tickets/write' },
  'other-scope': { sub: 'u-4', scope: 'profile' },
};

function verifier() {
  return vi.fn<JwtVerifier>(async (token) => TOKENS[token] ?? null);
}

function request(method: string, url: string, init: { headers?: HttpApiRequest['headers']; body?: Buffer | string } = {}): HttpApiRequest {
  const q = url.indexOf('?');
  return {
    method,
    rawPath: q < 0 ? url : url.slice(0, q),
    rawQueryString: q < 0 ? '' : url.slice(q + 1),
    headers: { host: 'localhost:3000', 'user-agent': 'vitest', ...init.headers },
    body: typeof init.body === 'string' ? Buffer.from(init.body) : init.body ?? Buffer.alloc(0),
    sourceIp: '127.0.0.1',
  };
}

const invoked = (o: RouteOutcome) => {
  if (o.kind !== 'invoke') throw new Error(`expected an invocation, got ${o.response.statusCode} ${o.response.body.toString()}`);
  return o;
};
const answered = (o: RouteOutcome): HttpApiResponse => {
  if (o.kind !== 'respond') throw new Error(`expected API Gateway to answer, got an invocation of ${o.handler} (${o.route.routeKey})`);
  return o.response;
};
const json = (r: HttpApiResponse) => JSON.parse(r.body.toString()) as unknown;

interface SyntheticRoute { key: string; handler?: string; auth?: 'JWT'; scopes?: string[] }

/** A template with one HTTP API (or several), shaped as CDK synthesises them. */
function syntheticTemplate(apis: Array<{ id: string; routes: SyntheticRoute[]; cors?: Record<string, unknown>; payloadFormatVersion?: string; authorizationType?: string }>): CfnTemplate {
  const resources: Record<string, CfnResource> = {};
  for (const api of apis) {
    resources[api.id] = { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: api.id, ProtocolType: 'HTTP', ...(api.cors ? { CorsConfiguration: api.cors } : {}) } };
    resources[`${api.id}Stage`] = { Type: 'AWS::ApiGatewayV2::Stage', Properties: { ApiId: { Ref: api.id }, StageName: '$default', AutoDeploy: true } };
    resources[`${api.id}Authorizer`] = {
      Type: 'AWS::ApiGatewayV2::Authorizer',
      Properties: {
        ApiId: { Ref: api.id }, AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'], Name: 'Auth',
        JwtConfiguration: { Audience: [{ Ref: 'PoolClient' }], Issuer: { 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: 'Pool' }]] } },
      },
    };
    api.routes.forEach((route, i) => {
      const handler = route.handler ?? 'agent-api';
      const fnId = `${api.id}Fn${handler.replace(/-/g, '')}`;
      resources[fnId] = { Type: 'AWS::Lambda::Function', Properties: {}, Metadata: { [HANDLER_METADATA_KEY]: handler } };
      resources[`${api.id}Integration${i}`] = {
        Type: 'AWS::ApiGatewayV2::Integration',
        Properties: { ApiId: { Ref: api.id }, IntegrationType: 'AWS_PROXY', IntegrationUri: { 'Fn::GetAtt': [fnId, 'Arn'] }, PayloadFormatVersion: api.payloadFormatVersion ?? '2.0' },
      };
      resources[`${api.id}Route${i}`] = {
        Type: 'AWS::ApiGatewayV2::Route',
        Properties: {
          ApiId: { Ref: api.id },
          RouteKey: route.key,
          AuthorizationType: route.auth ?? api.authorizationType ?? 'NONE',
          ...(route.auth ? { AuthorizerId: { Ref: `${api.id}Authorizer` } } : {}),
          ...(route.scopes ? { AuthorizationScopes: route.scopes } : {}),
          Target: { 'Fn::Join': ['', ['integrations/', { Ref: `${api.id}Integration${i}` }]] },
        },
      };
    });
  }
  return { Resources: resources };
}

function gateway(template: CfnTemplate, verifyJwt = verifier(), now?: () => number) {
  return { gw: new HttpApiGateway(loadHttpApis(template), { verifyJwt, ...(now ? { now } : {}) }), verifyJwt };
}

const INBOX = 'https://inbox.example.com';
const STRICT_CORS = { AllowOrigins: [INBOX], AllowMethods: ['GET', 'POST', 'PATCH'], AllowHeaders: ['authorization', 'content-type'], MaxAge: 3600 };

// ---------------------------------------------------------------------------------------------
// Today's synthesised template

describe('local API Gateway over the synthesised Confluo template', () => {
  let apis: HttpApiDefinition[];
  beforeAll(() => {
    apis = loadHttpApis(synthConfluo().template.toJSON() as CfnTemplate);
  });
  const gw = (verifyJwt = verifier()) => ({ gw: new HttpApiGateway(apis, { verifyJwt }), verifyJwt });

  it('reads the handler of each function from the same metadata key the CDK construct writes', () => {
    expect(HANDLER_METADATA_KEY).toBe(LIB_HANDLER_METADATA_KEY);
  });

  it('maps every route of both HTTP APIs to a Lambda handler file', () => {
    const byKey = Object.fromEntries(apis.flatMap((a) => a.routes.map((r) => [r.routeKey, r.handler])));
    expect(byKey).toMatchObject({
      'POST /webhooks/{channel}': 'ingest',
      'GET /healthz': 'ingest',
      'POST /webchat/session': 'webchat-api',
      'GET /survey/{token}': 'survey-link',
      'GET /api/v1/openapi.json': 'agent-api',
    });
    const agentRoutes = apis.flatMap((a) => a.routes).filter((r) => r.routeKey.includes('/api/v1/') && r.routeKey !== 'GET /api/v1/openapi.json');
    expect(agentRoutes.length).toBeGreaterThan(0);
    for (const r of agentRoutes) {
      expect(r.handler).toBe('agent-api');
      expect(r.authorization).toMatchObject({ type: 'JWT', identityHeader: 'authorization', issuer: expect.stringMatching(/^https:\/\/cognito-idp\.us-east-1\.amazonaws\.com\//) });
    }
  });

  // On today's template this includes `ANY /api/v1/{proxy+}` → pathParameters {proxy: 'g-1/g-2'}:
  // the key the deployed Agent API refused (defect 1).
  it('reaches every route with the path parameters API Gateway extracts from a request for it', async () => {
    const { gw: g } = gw();
    for (const route of apis.flatMap((a) => a.routes)) {
      if (!route.segments) continue;
      const expected: Record<string, string> = {};
      const path = '/' + route.segments.map((s) => {
        if (s.kind === 'literal') return s.value;
        expected[s.name] = s.kind === 'greedy' ? 'g-1/g-2' : `p-${s.name}`;
        return expected[s.name];
      }).join('/');
      const method = route.method === 'ANY' ? 'DELETE' : route.method!;
      const o = invoked(await g.route(request(method, path, { headers: { authorization: 'Bearer agent-token' } })));
      expect(o.route.routeKey).toBe(route.routeKey);
      expect(o.handler).toBe(route.handler);
      expect(o.event.routeKey).toBe(route.routeKey);
      expect(o.event.pathParameters).toEqual(Object.keys(expected).length ? expected : undefined);
    }
  });

  it('refuses every Agent API route but the OpenAPI document without a token, never invoking the function', async () => {
    const { gw: g, verifyJwt } = gw();
    for (const route of apis.flatMap((a) => a.routes).filter((r) => r.authorization.type === 'JWT')) {
      const path = '/' + route.segments!.map((s) => (s.kind === 'literal' ? s.value : 'x')).join('/');
      const r = answered(await g.route(request(route.method === 'ANY' ? 'GET' : route.method!, path)));
      expect(r.statusCode).toBe(401);
      expect(json(r)).toEqual({ message: 'Unauthorized' });
    }
    expect(verifyJwt).not.toHaveBeenCalled();
    expect(invoked(await g.route(request('GET', '/api/v1/openapi.json'))).handler).toBe('agent-api');
  });

  it('answers 404 {"message":"Not Found"} for a path no route has, and for a trailing slash', async () => {
    const { gw: g } = gw();
    for (const path of ['/nowhere', '/webhooks/telegram/', '/healthz/']) {
      const r = answered(await g.route(request('POST', path)));
      expect([r.statusCode, json(r)]).toEqual([404, { message: 'Not Found' }]);
    }
  });

  // Defect 2 of issue 12: a route `ANY /api/v1/{proxy+}` with the JWT authorizer matched the
  // browser's OPTIONS, so API Gateway never answered the preflight from the CORS configuration
  // (401). With explicit method routes it answers it itself.
  it('answers the web inbox preflight to the Agent API from the CORS configuration, without the authorizer', async () => {
    const { gw: g, verifyJwt } = gw();
    const origin = apis.find((a) => a.cors)!.cors!.allowOrigins[0]!;
    const r = answered(await g.route(request('OPTIONS', '/api/v1/tickets/01J9ZK', { headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization,content-type' } })));
    expect(r.statusCode).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe(origin);
    expect(verifyJwt).not.toHaveBeenCalled();
  });
});

// ---------------------------------------------------------------------------------------------
// Route selection

describe('route selection as API Gateway does it', () => {
  // The example of https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
  const { gw: g } = gateway(syntheticTemplate([{
    id: 'Pets',
    routes: [
      { key: 'GET /pets/dog/1', handler: 'dog-one' },
      { key: 'GET /pets/dog/{id}', handler: 'dog-id' },
      { key: 'GET /pets/{proxy+}', handler: 'pets-greedy' },
      { key: 'ANY /{proxy+}', handler: 'any-greedy' },
      { key: 'ANY /shop/{item}', handler: 'shop-any' },
      { key: 'POST /shop/{item}', handler: 'shop-post' },
      { key: 'GET /a/{x}/c', handler: 'a-x-c' },
      { key: 'GET /a/b/{y}', handler: 'a-b-y' },
    ],
  }]));
  const pick = async (method: string, path: string) => {
    const o = invoked(await g.route(request(method, path)));
    return [o.handler, o.event.pathParameters];
  };

  it('prefers a full match, then the more specific path, then a greedy match', async () => {
    expect(await pick('GET', '/pets/dog/1')).toEqual(['dog-one', undefined]);
    expect(await pick('GET', '/pets/dog/2')).toEqual(['dog-id', { id: '2' }]);
    expect(await pick('GET', '/pets/cat/1')).toEqual(['pets-greedy', { proxy: 'cat/1' }]);
    expect(await pick('POST', '/pets/cat/1')).toEqual(['any-greedy', { proxy: 'pets/cat/1' }]);
  });

  it('compares paths segment by segment from the left: a literal beats a variable', async () => {
    expect(await pick('GET', '/a/b/c')).toEqual(['a-b-y', { y: 'c' }]);
  });

  it('prefers an explicit method over ANY for the same path', async () => {
    expect(await pick('POST', '/shop/hat')).toEqual(['shop-post', { item: 'hat' }]);
    expect(await pick('PUT', '/shop/hat')).toEqual(['shop-any', { item: 'hat' }]);
  });

  it('lets {name} match exactly one non-empty segment and {proxy+} one or more', async () => {
    expect(await pick('GET', '/pets/dog/2/toys')).toEqual(['pets-greedy', { proxy: 'dog/2/toys' }]);
    expect(await pick('GET', '/shop')).toEqual(['any-greedy', { proxy: 'shop' }]);
    const root = answered(await g.route(request('GET', '/')));
    expect(root.statusCode).toBe(404);
  });

  it('routes decoded paths: %2F separates segments, other escapes reach the parameter decoded', async () => {
    const o = invoked(await g.route(request('GET', '/pets/dog/a%20b')));
    expect([o.handler, o.event.pathParameters, o.event.rawPath, o.event.requestContext.http.path]).toEqual(['dog-id', { id: 'a b' }, '/pets/dog/a b', '/pets/dog/a b']);
    expect(await pick('GET', '/pets/dog%2F7')).toEqual(['dog-id', { id: '7' }]);
    const bad = answered(await g.route(request('GET', '/pets/%zz')));
    expect([bad.statusCode, json(bad)]).toEqual([400, { message: 'Bad Request' }]);
  });

  it('falls back to $default last, with the full path and no path parameters', async () => {
    const { gw: d } = gateway(syntheticTemplate([{ id: 'Web', routes: [{ key: 'GET /hooks/{id}', handler: 'hooks' }, { key: '$default', handler: 'fallback' }] }]));
    expect(invoked(await d.route(request('GET', '/hooks/1'))).handler).toBe('hooks');
    const o = invoked(await d.route(request('POST', '/hooks/1/more')));
    expect([o.handler, o.event.routeKey, o.event.rawPath, 'pathParameters' in o.event]).toEqual(['fallback', '$default', '/hooks/1/more', false]);
  });

  it('refuses two APIs whose routes would collide on the one local origin', () => {
    const template = syntheticTemplate([{ id: 'One', routes: [{ key: 'GET /x/{a}' }] }, { id: 'Two', routes: [{ key: 'GET /x/{b}' }] }]);
    expect(() => gateway(template)).toThrow(/collide/);
    const defaults = syntheticTemplate([{ id: 'One', routes: [{ key: '$default' }] }, { id: 'Two', routes: [{ key: '$default' }] }]);
    expect(() => gateway(defaults)).toThrow(/\$default/);
  });

  it('refuses what it does not emulate instead of guessing: payload 1.0, IAM authorization', () => {
    expect(() => loadHttpApis(syntheticTemplate([{ id: 'V1', routes: [{ key: 'GET /x' }], payloadFormatVersion: '1.0' }]))).toThrow(/payload format 2\.0/);
    expect(() => loadHttpApis(syntheticTemplate([{ id: 'Iam', routes: [{ key: 'GET /x' }], authorizationType: 'AWS_IAM' }]))).toThrow(/AWS_IAM/);
  });
});

// ---------------------------------------------------------------------------------------------
// JWT authorizer

describe('JWT routes', () => {
  const template = syntheticTemplate([{ id: 'Agent', routes: [
    { key: 'GET /api/v1/tickets/{id}', auth: 'JWT' },
    { key: 'POST /api/v1/tickets/{id}/replies', auth: 'JWT', scopes: ['tickets/write'] },
  ] }]);

  it('answers 401 {"message":"Unauthorized"} without invoking when the token is missing, empty or refused', async () => {
    const { gw: g, verifyJwt } = gateway(template);
    for (const authorization of [undefined, '', 'Bearer ', 'Bearer forged', 'forged']) {
      const r = answered(await g.route(request('GET', '/api/v1/tickets/T1', { headers: authorization === undefined ? {} : { authorization } })));
      expect([r.statusCode, json(r)]).toEqual([401, { message: 'Unauthorized' }]);
    }
    expect(verifyJwt.mock.calls.map((c) => c[0])).toEqual(['forged', 'forged']);
  });

  it('hands the verifier the token with or without "Bearer " and the authorizer\'s issuer and audience', async () => {
    const { gw: g, verifyJwt } = gateway(template);
    invoked(await g.route(request('GET', '/api/v1/tickets/T1', { headers: { Authorization: 'Bearer agent-token' } })));
    invoked(await g.route(request('GET', '/api/v1/tickets/T1', { headers: { authorization: 'agent-token' } })));
    expect(verifyJwt).toHaveBeenCalledTimes(2);
    expect(verifyJwt).toHaveBeenCalledWith('agent-token', { issuer: 'https://cognito-idp.us-east-1.amazonaws.com/local-Pool', audience: ['local-PoolClient'] });
  });

  it('passes every claim as a string, arrays in brackets: cognito:groups ["admin"] is "[admin]"', async () => {
    const { gw: g } = gateway(template);
    const one = invoked(await g.route(request('GET', '/api/v1/tickets/T1', { headers: { authorization: 'Bearer agent-token' } })));
    expect((one.event.requestContext as { authorizer?: unknown }).authorizer).toEqual({
      jwt: { claims: { sub: 'u-1', 'cognito:groups': '[admin]', token_use: 'id', exp: '1790000000', email_verified: 'true' }, scopes: null },
    });
    const two = invoked(await g.route(request('GET', '/api/v1/tickets/T1', { headers: { authorization: 'Bearer two-groups' } })));
    expect((two.event.requestContext as { authorizer: { jwt: { claims: Record<string, string> } } }).authorizer.jwt.claims['cognito:groups']).toBe('[admin supervisor]');
  });

  it('on a route with scopes, passes the token\'s scopes and refuses a token with none of them (403)', async () => {
    const { gw: g } = gateway(template);
    const ok = invoked(await g.route(request('POST', '/api/v1/tickets/T1/replies', { headers: { authorization: 'Bearer scoped' } })));
    expect((ok.event.requestContext as { authorizer: { jwt: { scopes: unknown } } }).authorizer.jwt.scopes).toEqual(['tickets/read', 'tickets/write']);
    const r = answered(await g.route(request('POST', '/api/v1/tickets/T1/replies', { headers: { authorization: 'Bearer other-scope' } })));
    expect([r.statusCode, json(r)]).toEqual([403, { message: 'Forbidden' }]);
  });

  it('gives a route without authorizer no authorizer context', async () => {
    const { gw: g } = gateway(syntheticTemplate([{ id: 'Open', routes: [{ key: 'GET /open' }] }]));
    expect('authorizer' in invoked(await g.route(request('GET', '/open'))).event.requestContext).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// CORS

describe('CORS as API Gateway applies a CorsConfiguration', () => {
  const preflight = (path: string, origin = INBOX, method = 'PATCH') => request('OPTIONS', path, { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' } });
  const explicit = syntheticTemplate([{ id: 'Agent', cors: STRICT_CORS, routes: [{ key: 'GET /api/v1/tickets/{id}', auth: 'JWT' }, { key: 'PATCH /api/v1/tickets/{id}', auth: 'JWT' }] }]);

  it('answers the preflight of an explicit-method route itself: 204 with the configured headers, no authorizer, no function', async () => {
    const { gw: g, verifyJwt } = gateway(explicit);
    const r = answered(await g.route(preflight('/api/v1/tickets/T1')));
    expect(r.statusCode).toBe(204);
    expect(r.body.length).toBe(0);
    expect(r.headers).toMatchObject({
      'access-control-allow-origin': INBOX,
      'access-control-allow-methods': 'GET,POST,PATCH',
      'access-control-allow-headers': 'authorization,content-type',
      'access-control-max-age': '3600',
    });
    expect(r.headers['access-control-allow-credentials']).toBeUndefined();
    expect(verifyJwt).not.toHaveBeenCalled();
  });

  it('answers a preflight from an origin it does not allow without any CORS header', async () => {
    const { gw: g } = gateway(explicit);
    const r = answered(await g.route(preflight('/api/v1/tickets/T1', 'https://evil.example')));
    expect(r.statusCode).toBe(204);
    expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('sends an ANY route\'s preflight through its JWT authorizer: 401, the Agent API bug of today', async () => {
    const { gw: g } = gateway(syntheticTemplate([{ id: 'Agent', cors: STRICT_CORS, routes: [{ key: 'ANY /api/v1/{proxy+}', auth: 'JWT' }] }]));
    const r = answered(await g.route(preflight('/api/v1/tickets/T1')));
    expect(r.statusCode).toBe(401);
    expect(r.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('lets an OPTIONS route or $default take the preflight instead of API Gateway', async () => {
    const { gw: g } = gateway(syntheticTemplate([{ id: 'Agent', cors: STRICT_CORS, routes: [{ key: 'GET /things', auth: 'JWT' }, { key: 'OPTIONS /things', handler: 'options' }, { key: '$default', handler: 'fallback' }] }]));
    expect(invoked(await g.route(preflight('/things'))).handler).toBe('options');
    expect(invoked(await g.route(preflight('/other'))).handler).toBe('fallback');
  });

  it('adds the allowed origin to the function\'s response and drops the CORS headers the function set', async () => {
    const cors = { ...STRICT_CORS, AllowCredentials: true, ExposeHeaders: ['x-request-id'] };
    const { gw: g } = gateway(syntheticTemplate([{ id: 'Agent', cors, routes: [{ key: 'GET /api/v1/tickets/{id}', auth: 'JWT' }] }]));
    const fromFunction = { statusCode: 200, headers: { 'Access-Control-Allow-Origin': '*', 'access-control-allow-methods': 'DELETE', 'content-type': 'application/json' }, body: '{}' };

    const allowed = invoked(await g.route(request('GET', '/api/v1/tickets/T1', { headers: { origin: INBOX, authorization: 'Bearer agent-token' } }))).respond(fromFunction);
    expect(allowed.headers).toMatchObject({ 'access-control-allow-origin': INBOX, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-request-id', 'content-type': 'application/json' });
    expect(allowed.headers['access-control-allow-methods']).toBeUndefined();

    const foreign = invoked(await g.route(request('GET', '/api/v1/tickets/T1', { headers: { origin: 'https://evil.example', authorization: 'Bearer agent-token' } }))).respond(fromFunction);
    expect(Object.keys(foreign.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);

    const refused = answered(await g.route(request('GET', '/api/v1/tickets/T1', { headers: { origin: INBOX } })));
    expect([refused.statusCode, refused.headers['access-control-allow-origin']]).toEqual([401, INBOX]);
  });

  it('answers "*" when every origin is allowed', async () => {
    const { gw: g } = gateway(syntheticTemplate([{ id: 'Open', cors: { AllowOrigins: ['*'], AllowMethods: ['*'] }, routes: [{ key: 'POST /webchat/session' }] }]));
    const r = answered(await g.route(preflight('/webchat/session', 'https://shop.example', 'POST')));
    expect(r.headers).toMatchObject({ 'access-control-allow-origin': '*', 'access-control-allow-methods': '*' });
    expect(invoked(await g.route(request('POST', '/webchat/session', { headers: { origin: 'https://shop.example' } }))).respond({ statusCode: 200 }).headers['access-control-allow-origin']).toBe('*');
  });

  it('without a CorsConfiguration adds nothing, keeps the function\'s headers and lets routes decide OPTIONS', async () => {
    const { gw: g } = gateway(syntheticTemplate([{ id: 'Hooks', routes: [{ key: 'POST /webhooks/{channel}' }, { key: 'OPTIONS /webhooks/{channel}', handler: 'ingest' }] }]));
    expect(invoked(await g.route(preflight('/webhooks/webchat'))).handler).toBe('ingest');
    expect(answered(await g.route(preflight('/elsewhere'))).statusCode).toBe(404);
    const r = invoked(await g.route(request('POST', '/webhooks/webchat', { headers: { origin: INBOX } }))).respond({ statusCode: 200, headers: { 'access-control-allow-origin': '*' } });
    expect(r.headers['access-control-allow-origin']).toBe('*');
  });
});

// ---------------------------------------------------------------------------------------------
// The event

describe('the payload format 2.0 event', () => {
  const NOW = Date.UTC(2026, 11, 6, 22, 33, 38, 123);
  const template = syntheticTemplate([{ id: 'Hooks', routes: [{ key: 'POST /webhooks/{channel}', handler: 'ingest' }, { key: 'GET /healthz', handler: 'ingest' }] }]);

  it('carries route, raw path and query, joined headers and query values, cookies apart, and the request context', async () => {
    const { gw: g } = gateway(template, verifier(), () => NOW);
    const o = invoked(await g.route(request('POST', '/webhooks/telegram?a=1&a=2&b=x+y&c=%2B&d&e=https%3A%2F%2Fexample.com%2Fp', {
      headers: { 'Content-Type': 'application/json', 'X-Probe': ['first', 'second'], cookie: ['s=1; theme=dark', 'c=3'] },
      body: '{"update_id":1}',
    })));
    const e = o.event;
    expect(e).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/{channel}',
      rawPath: '/webhooks/telegram',
      rawQueryString: 'a=1&a=2&b=x+y&c=%2B&d&e=https%3A%2F%2Fexample.com%2Fp',
      cookies: ['s=1', 'theme=dark', 'c=3'],
      queryStringParameters: { a: '1,2', b: 'x y', c: '+', d: '', e: 'https://example.com/p' },
      pathParameters: { channel: 'telegram' },
      body: '{"update_id":1}',
      isBase64Encoded: false,
    });
    expect(e.headers).toMatchObject({ 'content-type': 'application/json', 'x-probe': 'first,second', host: 'localhost:3000', 'user-agent': 'vitest', 'x-forwarded-for': '127.0.0.1' });
    expect(e.headers.cookie).toBeUndefined();
    expect(e.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(e.requestContext).toMatchObject({
      accountId: '123456789012',
      apiId: expect.stringMatching(/^[0-9a-f]{10}$/),
      domainName: 'localhost:3000',
      http: { method: 'POST', path: '/webhooks/telegram', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: expect.stringMatching(/^[A-Za-z0-9+/]{15}=$/),
      routeKey: 'POST /webhooks/{channel}',
      stage: '$default',
      time: '06/Dec/2026:22:33:38 +0000',
      timeEpoch: NOW,
    });
  });

  it('leaves out cookies, query parameters, path parameters and body when the request has none', async () => {
    const { gw: g } = gateway(template);
    const e = invoked(await g.route(request('GET', '/healthz'))).event;
    expect(Object.keys(e).sort()).toEqual(['headers', 'isBase64Encoded', 'rawPath', 'rawQueryString', 'requestContext', 'routeKey', 'version']);
    expect([e.rawQueryString, e.isBase64Encoded]).toEqual(['', false]);
  });

  it.each([
    ['application/json', false],
    ['application/json; charset=utf-8', false],
    ['text/plain', false],
    ['application/xml', false],
    ['application/x-www-form-urlencoded', true],
    ['application/x-www-form-urlencoded; charset=UTF-8', true],
    ['application/vnd.api+json', true],
    ['multipart/form-data; boundary=x', true],
    ['text/plain; charset=iso-8859-1', true],
    ['image/png', true],
    [undefined, true],
  ])('body of Content-Type %s: isBase64Encoded %s', async (contentType, base64) => {
    const { gw: g } = gateway(template);
    const bytes = Buffer.from('From=%2B15551234567&Body=Hi+%C3%A9');
    const e = invoked(await g.route(request('POST', '/webhooks/twilio', { headers: contentType ? { 'content-type': contentType } : {}, body: bytes }))).event;
    expect(e.isBase64Encoded).toBe(base64);
    expect(base64 ? Buffer.from(e.body!, 'base64') : Buffer.from(e.body!, 'utf8')).toEqual(bytes);
  });

  it('passes binary bytes unchanged through base64', async () => {
    const { gw: g } = gateway(template);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe]);
    const e = invoked(await g.route(request('POST', '/webhooks/x', { headers: { 'content-type': 'image/png' }, body: png }))).event;
    expect(Buffer.from(e.body!, 'base64')).toEqual(png);
  });

  it('refuses a body over 10 MB at the edge and an event over Lambda\'s 6 MB payload limit, invoking nothing', async () => {
    const { gw: g } = gateway(template);
    const huge = answered(await g.route(request('POST', '/webhooks/x', { headers: { 'content-type': 'application/json' }, body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20) })));
    expect([huge.statusCode, huge.body.toString()]).toEqual([413, 'HTTP content length exceeded 10485760 bytes.']);
    const big = answered(await g.route(request('POST', '/webhooks/x', { headers: { 'content-type': 'application/json' }, body: Buffer.alloc(7 * 1024 * 1024, 0x20) })));
    expect([big.statusCode, json(big)]).toEqual([413, { message: 'Request Too Long' }]);
    // Base64 grows a 5 MB binary body past 6 MB.
    const binary = answered(await g.route(request('POST', '/webhooks/x', { headers: { 'content-type': 'image/png' }, body: Buffer.alloc(5 * 1024 * 1024, 1) })));
    expect(binary.statusCode).toBe(413);
  });
});

// ---------------------------------------------------------------------------------------------
// The response

describe('the function result mapped to the HTTP response', () => {
  const template = syntheticTemplate([{ id: 'Hooks', routes: [{ key: 'GET /x', handler: 'ingest' }] }]);
  const respond = async (result: unknown) => {
    const { gw: g } = gateway(template);
    return invoked(await g.route(request('GET', '/x'))).respond(result);
  };

  it('takes statusCode, headers, cookies and a base64 body as given', async () => {
    const r = await respond({ statusCode: 201, headers: { 'Content-Type': 'image/png', 'X-Count': 3, 'Set-Cookie': 'late=1' }, cookies: ['a=1; Path=/', 'b=2'], body: Buffer.from([1, 2, 255]).toString('base64'), isBase64Encoded: true });
    expect(r.statusCode).toBe(201);
    expect(r.headers).toMatchObject({ 'content-type': 'image/png', 'x-count': '3', 'apigw-requestid': expect.any(String) });
    expect(r.cookies).toEqual(['a=1; Path=/', 'b=2', 'late=1']);
    expect(r.body).toEqual(Buffer.from([1, 2, 255]));
  });

  it('infers 200 application/json for a result without statusCode', async () => {
    const obj = await respond({ message: 'Hello' });
    expect([obj.statusCode, obj.headers['content-type'], json(obj)]).toEqual([200, 'application/json', { message: 'Hello' }]);
    const str = await respond('Hello from Lambda!');
    expect(str.body.toString()).toBe('Hello from Lambda!');
  });

  it('answers 500 {"message":"Internal Server Error"} for a result API Gateway cannot read', async () => {
    for (const bad of [{ statusCode: '200' }, { statusCode: 200, body: { not: 'a string' } }, { statusCode: 200, headers: { a: { b: 1 } } }]) {
      const r = await respond(bad);
      expect([r.statusCode, json(r)]).toEqual([500, { message: 'Internal Server Error' }]);
    }
  });

  it('handle() invokes the routed function and turns a throw into 500', async () => {
    const { gw: g } = gateway(template);
    const invoke = vi.fn(async (target: { functionLogicalId: string; handler: string }) => ({ statusCode: 202, body: target.handler }));
    const ok = await g.handle(request('GET', '/x'), invoke);
    expect([ok.statusCode, ok.body.toString()]).toEqual([202, 'ingest']);
    expect(invoke.mock.calls[0]![0]).toMatchObject({ functionLogicalId: 'HooksFningest', handler: 'ingest' });
    const failed = await g.handle(request('GET', '/x'), async () => { throw new Error('boom'); });
    expect([failed.statusCode, json(failed)]).toEqual([500, { message: 'Internal Server Error' }]);
    expect((await g.handle(request('GET', '/y'), invoke)).statusCode).toBe(404);
  });
});
