/**
 * The template's HTTP APIs in front of the function hosts, through the local runtime's API
 * Gateway (local/http-api.ts: the synthesised routes and their precedence, the JWT authorizer,
 * CORS preflights from the API's CorsConfiguration, payload 2.0 events with API Gateway's
 * base64 rules, API Gateway's own 401/403/404/413/500 answers). The same code serves `npm start`;
 * here it runs with the deployment's physical values — the CORS origin is the CloudFront
 * distribution's domain, the authorizer's issuer and audience the user pool's — and with
 * Cognito-shaped ID tokens (harness/cognito.ts).
 *
 *   await d.http.request({ method: 'POST', path: '/webhooks/telegram', headers, body });
 *   await d.http.request({ method: 'GET', path: '/api/v1/tickets?status=new', token });
 */
import { HttpApiGateway, loadHttpApis, type HttpApiDefinition, type HttpApiRoute, type JwtVerifier } from '../../../local/http-api.js';
import type { Template } from '../support/assembly.js';
import type { PhysicalResources } from './resources.js';

export interface HttpRequest {
  readonly method: string;
  /** Path with an optional query string, as the client sends it: `/api/v1/tickets?status=new`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** A bearer token for the Authorization header (an ID token of harness/cognito.ts). */
  readonly token?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The route API Gateway chose (`POST /webhooks/{channel}`), or null when it answered itself. */
  readonly routeKey: string | null;
}

/** Invokes a function by its logical id (its host does the rest). */
export type InvokeFunction = (logicalId: string, event: unknown) => Promise<unknown>;

/** The properties of the HTTP API resources that hold values of other resources, resolved physically. */
const PHYSICAL_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'AWS::ApiGatewayV2::Api': ['CorsConfiguration'],
  'AWS::ApiGatewayV2::Authorizer': ['JwtConfiguration'],
};

/**
 * The template's HTTP APIs (`loadHttpApis`) with CORS origins and JWT issuers/audiences as the
 * deployment has them: those properties are resolved against the physical resources first, and
 * loadHttpApis leaves a resolved value as it is.
 */
export function deployedHttpApis(template: Template, phys: PhysicalResources): HttpApiDefinition[] {
  const resources = Object.fromEntries(Object.entries(template.Resources).map(([id, r]) => {
    const names = PHYSICAL_PROPERTIES[r.Type];
    if (!names || !r.Properties) return [id, r];
    const props = { ...r.Properties };
    for (const n of names) if (props[n] !== undefined) props[n] = phys.resolve(props[n]);
    return [id, { ...r, Properties: props }];
  }));
  return loadHttpApis({ ...template, Resources: resources });
}

export class DeploymentHttp {
  readonly gateway: HttpApiGateway;

  constructor(readonly apis: readonly HttpApiDefinition[], private readonly invoke: InvokeFunction, opts: { verifyJwt: JwtVerifier; now: () => number }) {
    // API Gateway's endpoints are https: it adds x-forwarded-proto https.
    this.gateway = new HttpApiGateway(apis, { verifyJwt: opts.verifyJwt, now: opts.now, forwardedProto: 'https' });
  }

  /** The routes with a JWT authorizer (the Agent API's). */
  jwtRoutes(): HttpApiRoute[] {
    return this.apis.flatMap((a) => a.routes).filter((r) => r.authorization.type === 'JWT');
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const q = req.path.indexOf('?');
    const outcome = await this.gateway.route({
      method: req.method,
      rawPath: q < 0 ? req.path : req.path.slice(0, q),
      rawQueryString: q < 0 ? '' : req.path.slice(q + 1),
      headers: { ...req.headers, ...(req.token ? { authorization: `Bearer ${req.token}` } : {}) },
      body: req.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8'),
      sourceIp: '198.51.100.7',
    });
    if (outcome.kind === 'respond') return toHttp(outcome.response, null);
    let result: unknown;
    try {
      result = await this.invoke(outcome.functionLogicalId, outcome.event);
    } catch (e) {
      return toHttp(outcome.fail(e), outcome.route.routeKey);
    }
    return toHttp(outcome.respond(result), outcome.route.routeKey);
  }
}

function toHttp(r: { statusCode: number; headers: Record<string, string>; cookies: string[]; body: Buffer }, routeKey: string | null): HttpResponse {
  return { status: r.statusCode, headers: { ...r.headers, ...(r.cookies.length ? { 'set-cookie': r.cookies.join(', ') } : {}) }, body: r.body.toString('utf8'), routeKey };
}
