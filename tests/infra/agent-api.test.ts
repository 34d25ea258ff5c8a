import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { AgentApi } from '../../lib/agent-api.js';
import { Store } from '../../lib/store.js';
import { agentApiRouteKeys } from '../../functions/handlers/agent-api/route-keys.js';
import { Api } from '../../web/inbox/api.js';
import { allowedActions, functionId, resourceId, testStack } from './helpers.js';

function build(props: { allowedOrigins?: string[]; removalPolicy?: RemovalPolicy } = {}) {
  const stack = testStack();
  const store = new Store(stack, 'Store');
  const outboundQueue = new Queue(stack, 'OutboundQueue', { fifo: true });
  const agentApi = new AgentApi(stack, 'AgentApi', { store, outboundQueue, ...props });
  return { agentApi, template: Template.fromStack(stack) };
}

// GIVEN an AgentApi with defaults
const { template } = build();
const poolId = resourceId(template, 'AWS::Cognito::UserPool', 'AgentApiUserPool');
const clientId = resourceId(template, 'AWS::Cognito::UserPoolClient', 'AgentApiUserPoolClient');
const authorizerId = resourceId(template, 'AWS::ApiGatewayV2::Authorizer', 'AgentApiAgentAuthorizer');
const fnId = functionId(template, 'AgentApiAgentApiFunction');
const routeKeys = (t: Template = template): string[] => Object.values(t.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey as string);
const route = (key: string) => Object.values(template.findResources('AWS::ApiGatewayV2::Route')).find((r) => r.Properties.RouteKey === key)?.Properties;

describe('AgentApi user pool', () => {
  it('lets only admins create users and enforces a strong password policy', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: { MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
    });
  });

  it('requires an authenticator-app MFA and enforces threat protection (Plus tier)', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
  });

  it('defines the agent, supervisor and admin groups', () => {
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map((g) => g.Properties.GroupName);
    expect(groups.sort()).toEqual(['admin', 'agent', 'supervisor']);
  });

  it('retains the user pool by default', () => {
    template.hasResource('AWS::Cognito::UserPool', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ DeletionProtection: 'ACTIVE' }) });
  });

  it('defines a public SRP client without a secret or OAuth flows', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      UserPoolId: { Ref: poolId },
      GenerateSecret: false,
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_SRP_AUTH']),
      AllowedOAuthFlows: Match.absent(),
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it('lets a signed-in agent write preferences only: never name ({{agent.name}} in replies)', () => {
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0]!.Properties as { WriteAttributes?: string[] };
    // Absent would mean "every attribute", name included.
    expect(client.WriteAttributes).toEqual(['locale', 'zoneinfo']);
  });
});

describe('AgentApi HTTP API', () => {
  it('authorises /api/v1 with a JWT authorizer whose issuer is the user pool and audience the client', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: clientId }],
        Issuer: { 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: poolId }]] },
      },
    });
  });

  it('routes each entry of the handler\'s route table by its own method and path, and nothing else', () => {
    const table = agentApiRouteKeys().map((k) => `${k.method} ${k.path}`).sort();
    expect(table).toContain('GET /api/v1/tickets/{id}');
    expect(routeKeys().sort()).toEqual(table);
  });

  it('has no ANY and no OPTIONS route, so API Gateway answers CORS preflights from the CORS configuration', () => {
    expect(routeKeys().filter((k) => /^(ANY|OPTIONS) /.test(k))).toEqual([]);
    expect(routeKeys().filter((k) => k.includes('{proxy+}'))).toEqual([]);
  });

  it('authorises every route with a role by the JWT authorizer and leaves the public ones open', () => {
    for (const k of agentApiRouteKeys()) {
      const r = route(`${k.method} ${k.path}`);
      if (k.role === null) {
        expect(r, `${k.method} ${k.path}`).toMatchObject({ AuthorizationType: 'NONE' });
        expect(r?.AuthorizerId).toBeUndefined();
      } else {
        expect(r, `${k.method} ${k.path}`).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
      }
    }
    expect(route('PATCH /api/v1/tickets/{id}')).toMatchObject({ AuthorizationType: 'JWT' });
  });

  it('serves GET /api/v1/openapi.json without authorization', () => {
    expect(route('GET /api/v1/openapi.json')).toMatchObject({ AuthorizationType: 'NONE' });
    expect(route('GET /api/v1/openapi.json')?.AuthorizerId).toBeUndefined();
  });

  it('lets API Gateway invoke the function through one permission for the whole API, not one per route', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission'))
      .filter((p) => JSON.stringify(p.Properties.FunctionName).includes(fnId));
    expect(permissions).toHaveLength(1);
    expect(permissions[0]!.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' });
    expect(JSON.stringify(permissions[0]!.Properties.SourceArn)).toMatch(/\/\*\/\*\/\*"\]\]\}$/);
  });

  it('access-logs and throttles its $default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('has no CORS configuration by default', () => {
    expect(Object.values(template.findResources('AWS::ApiGatewayV2::Api'))[0]!.Properties.CorsConfiguration).toBeUndefined();
  });

  it('answers preflights from the inbox origins with the route table\'s methods, the two request headers and a one-hour cache', () => {
    const t = build({ allowedOrigins: ['https://inbox.example.com', 'http://localhost:3000'] }).template;
    const cors = Object.values(t.findResources('AWS::ApiGatewayV2::Api'))[0]!.Properties.CorsConfiguration;
    expect(cors).toEqual({
      AllowOrigins: ['https://inbox.example.com', 'http://localhost:3000'],
      AllowMethods: [...new Set(agentApiRouteKeys().map((k) => k.method))].sort(),
      AllowHeaders: ['authorization', 'content-type'],
      MaxAge: 3600,
    });
    expect(cors.AllowMethods).toEqual(['DELETE', 'GET', 'PATCH', 'POST', 'PUT']);
  });

  it('allows every method and request header the inbox\'s API client sends, and it reads no response header that would need exposing', async () => {
    const sent: Array<{ method: string; headers: string[] }> = [];
    const headerReads: string[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (_url: string, init: RequestInit) => {
      sent.push({ method: String(init.method), headers: Object.keys(init.headers ?? {}).map((h) => h.toLowerCase()) });
      const headers = new Proxy(new Headers({ 'content-type': 'application/json' }), {
        get(target, prop) { headerReads.push(String(prop)); const v = Reflect.get(target, prop); return typeof v === 'function' ? v.bind(target) : v; },
      });
      return { ok: true, status: 200, headers, text: async () => '{}' } as unknown as Response;
    }) as typeof fetch;
    try {
      const api = new Api('https://api.example.com/api/v1', 'token', () => {});
      await api.get('/tickets');
      await api.post('/tickets/T1/replies', { text: 'x' });
      await api.patch('/tickets/T1', { status: 'solved' });
    } finally {
      globalThis.fetch = realFetch;
    }
    const cors = Object.values(build({ allowedOrigins: ['https://inbox.example.com'] }).template.findResources('AWS::ApiGatewayV2::Api'))[0]!.Properties.CorsConfiguration;
    expect(sent.map((s) => s.method)).toEqual(['GET', 'POST', 'PATCH']);
    for (const s of sent) {
      expect(cors.AllowMethods).toContain(s.method);
      for (const h of s.headers) expect(cors.AllowHeaders).toContain(h);
    }
    expect(new Set(sent.flatMap((s) => s.headers))).toEqual(new Set(['authorization', 'content-type']));
    expect(headerReads).toEqual([]);
    expect(cors.ExposeHeaders).toBeUndefined();
  });

  it('outputs the user pool id and client id', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const values = Object.values(outputs).map((o) => o.Value);
    expect(values).toContainEqual({ Ref: poolId });
    expect(values).toContainEqual({ Ref: clientId });
  });
});

describe('AgentApi function', () => {
  it('is bound to the table and the outbound queue, and reads no channel secrets', () => {
    const env = template.toJSON().Resources[fnId].Properties.Environment.Variables;
    expect(env).toMatchObject({
      CONFLUO_TABLE_NAME: { Ref: resourceId(template, 'AWS::DynamoDB::Table', 'StoreTable') },
      CONFLUO_OUTBOUND_QUEUE_URL: { Ref: resourceId(template, 'AWS::SQS::Queue', 'OutboundQueue') },
    });
    expect(env.CONFLUO_SECRETS_PATH).toBeUndefined();
    expect(allowedActions(template, fnId)).toEqual(expect.arrayContaining(['sqs:SendMessage', 'dynamodb:Query']));
    expect(allowedActions(template, fnId).filter((a) => a.startsWith('ssm:'))).toEqual([]);
  });

  it('answers within the 30 s HTTP API integration limit', () => {
    expect(template.toJSON().Resources[fnId].Properties.Timeout).toBeLessThan(30);
  });
});

describe('AgentApi hosted-UI sign-in (signIn)', () => {
  const stack = testStack();
  const store = new Store(stack, 'Store');
  const outboundQueue = new Queue(stack, 'OutboundQueue', { fifo: true });
  const agentApi = new AgentApi(stack, 'AgentApi', { store, outboundQueue, signIn: { callbackUrls: ['https://inbox.example.com/'], domainPrefix: 'confluo-test' } });
  const t = Template.fromStack(stack);

  it('configures the public client for the authorization-code grant only, openid/email/profile, the inbox as callback and logout URL', () => {
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: ['https://inbox.example.com/'],
      LogoutURLs: ['https://inbox.example.com/'],
      SupportedIdentityProviders: ['COGNITO'],
    });
  });

  it('adds a Cognito domain with the prefix and outputs the domain and the hosted-UI URL', () => {
    t.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'confluo-test', UserPoolId: Match.anyValue() });
    expect(agentApi.signIn?.host).toContain('.auth.');
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).some((k) => k.startsWith('AgentApiSignInDomain'))).toBe(true);
    expect(JSON.stringify(Object.entries(outputs).find(([k]) => k.startsWith('AgentApiHostedUiUrl'))![1].Value)).toContain('/login?client_id=');
  });

  it('derives a unique prefix from the stack id by default and refuses a bad prefix', () => {
    const s = testStack('Other');
    new AgentApi(s, 'AgentApi', { store: new Store(s, 'Store'), outboundQueue: new Queue(s, 'Q', { fifo: true }), signIn: { callbackUrls: ['https://x.example/'] } });
    const domain = Object.values(Template.fromStack(s).findResources('AWS::Cognito::UserPoolDomain'))[0]!.Properties.Domain;
    expect(JSON.stringify(domain)).toMatch(/confluo-.*AWS::StackId/);
    const s2 = testStack('Bad');
    expect(() => new AgentApi(s2, 'AgentApi', { store: new Store(s2, 'Store'), outboundQueue: new Queue(s2, 'Q', { fifo: true }), signIn: { callbackUrls: ['https://x.example/'], domainPrefix: 'my-cognito' } })).toThrow(/domainPrefix/);
  });
});
