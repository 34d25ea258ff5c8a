/**
 * AgentApi: the `/api/v1` HTTP API for agents, supervisors and admins (DESIGN §3). Callers sign
 * in to a Cognito user pool; API Gateway's JWT authorizer checks the token (issuer = the user
 * pool, audience = the app client) before the agent-api function runs, and the function reads the
 * role from the `cognito:groups` claim.
 */
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import { CorsHttpMethod, HttpMethod, HttpNoneAuthorizer, PayloadFormatVersion, type CorsPreflightOptions, type HttpApi, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import {
  AccountRecovery, ClientAttributes, FeaturePlan, Mfa, OAuthScope, StandardThreatProtectionMode, UserPool, UserPoolClient, UserPoolClientIdentityProvider, UserPoolDomain, UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { agentApiRouteKeys, type AgentRouteKey } from '../functions/handlers/agent-api/route-keys.js';
import { ConfluoFunction } from './confluo-function.js';
import { defineLoggedHttpApi } from './ingest.js';
import type { Store } from './store.js';

/** The roles of DESIGN §3, as Cognito groups (lower precedence wins when a user is in several). */
export const AGENT_ROLES = [
  { groupName: 'admin', precedence: 10, description: 'Confluo admins: configuration, SLA policies, templates, erasure' },
  { groupName: 'supervisor', precedence: 20, description: 'Confluo supervisors: all tickets, merges, KPIs' },
  { groupName: 'agent', precedence: 30, description: 'Confluo agents: work tickets, reply, add notes' },
] as const;

/** The Agent API's routes, from the handler's route table (functions/handlers/agent-api.ts). */
export const AGENT_API_ROUTES: readonly AgentRouteKey[] = agentApiRouteKeys();

/**
 * Why each public route (role null) may be called without a token: the cdk-nag APIG4
 * acknowledgement of its route. A public route missing here fails synthesis, so opening a route
 * to everyone is always a decision written down.
 */
const PUBLIC_ROUTE_REASONS: Readonly<Record<string, string>> = {
  'GET /api/v1/openapi.json': 'it serves the public OpenAPI description of the API (DESIGN §3) so clients can be generated before signing in; it contains no data.',
};

/**
 * The CORS configuration for the web inbox's origins. Every inbox call is "non-simple" (it sends
 * `authorization: Bearer …`, and `content-type: application/json` with a body), so the browser
 * sends a preflight first, without the token; API Gateway answers it. The inbox (web/inbox/api.ts)
 * sends only those two request headers and reads no response header but the status, so nothing
 * needs exposing. Methods: those of the route table (the inbox uses GET, POST and PATCH today).
 */
export function agentApiCors(allowOrigins: string[]): CorsPreflightOptions {
  const methods = [...new Set(AGENT_API_ROUTES.map((r) => r.method))].sort();
  return {
    allowOrigins,
    allowMethods: methods.map((m) => CorsHttpMethod[m]),
    allowHeaders: ['authorization', 'content-type'],
    // Each call is preceded by a preflight unless cached; browsers cap the cache (Chromium: 2 h).
    maxAge: Duration.hours(1),
  };
}

/** Sign-in through the Cognito hosted UI (OAuth 2.0 authorization code + PKCE, public client). */
export interface AgentSignInProps {
  /**
   * Where the hosted UI may send agents back to after signing in and out (the app client's
   * callback and logout URLs): the web inbox URL(s), e.g. `https://<distribution>/`.
   */
  readonly callbackUrls: string[];

  /**
   * Prefix of the Cognito domain `<prefix>.auth.<region>.amazoncognito.com`: unique in the
   * region across all accounts; lowercase letters, digits and hyphens; no `aws`, `amazon` or
   * `cognito`. Ignored with `customDomain`.
   *
   * @default - `confluo-<the stack's UUID>` (unique, stable for the life of the stack)
   */
  readonly domainPrefix?: string;

  /**
   * Your own sign-in domain (e.g. `login.example.com`) with an ACM certificate in us-east-1;
   * point an alias record at the domain's CloudFront target afterwards.
   *
   * @default - the Cognito prefix domain
   */
  readonly customDomain?: { readonly domainName: string; readonly certificate: ICertificate };
}

export interface AgentApiProps {
  /** The single table. */
  readonly store: Store;
  /** The outbound queue agent replies are put on (`CONFLUO_OUTBOUND_QUEUE_URL`). */
  readonly outboundQueue: IQueue;

  /**
   * SSM path of the channel settings: the function reads `META_HUMAN_AGENT_TAG` there (whether
   * Messenger/Instagram replies may carry the HUMAN_AGENT tag), nothing else (lib/ssm-settings.ts).
   *
   * @default - none read: replies are never tagged
   */
  readonly secretsPath?: string;

  /**
   * Browser origins allowed to call the API (the web inbox), answered by API Gateway's CORS
   * preflight handling.
   *
   * @default - no CORS configuration: only same-origin and non-browser clients can call the API
   */
  readonly allowedOrigins?: string[];

  /**
   * Steady-state rate and burst limits of the API stage.
   *
   * @default - { rateLimit: 50, burstLimit: 100 } requests per second
   */
  readonly throttle?: ThrottleSettings;

  /**
   * What happens to the user pool (the agents' accounts) when it is removed from the stack.
   * With anything but DESTROY the pool also gets deletion protection.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Hosted-UI sign-in for the web inbox: a user pool domain and an app client with the
   * authorization-code grant only (PKCE, no secret), scopes openid/email/profile.
   *
   * @default - no domain, no OAuth flows: the client signs in with SRP only (CLI, scripts)
   */
  readonly signIn?: AgentSignInProps;

  /**
   * How long access-log and function-log events are kept.
   *
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

export class AgentApiError extends Error {
  override name = 'AgentApiError';
}

/** Cognito user pool + JWT-authorised HTTP API `/api/v1` → agent-api function. */
export class AgentApi extends Construct {
  public readonly userPool: UserPool;
  public readonly userPoolClient: UserPoolClient;
  public readonly api: HttpApi;
  /** The agent-api function. */
  public readonly function: ConfluoFunction;
  /** Base URL of the API (ends with '/'); endpoints are `${url}api/v1/…`. */
  public readonly url: string;
  /** The hosted-UI sign-in (with `signIn`): the user pool domain and its host name. */
  public readonly signIn?: { readonly domain: UserPoolDomain; readonly host: string };

  constructor(scope: Construct, id: string, props: AgentApiProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.userPool = new UserPool(this, 'UserPool', {
      // Agents are invited by an admin (AdminCreateUser); nobody can register themselves.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // Agents see customers' personal data: a second factor is required (an authenticator app;
      // no SMS, which needs an SNS role and is weaker).
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      // Plus tier: threat protection blocks sign-ins with compromised credentials or high risk
      // (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-settings-threat-protection.html).
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      removalPolicy,
      deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
    });
    for (const role of AGENT_ROLES) {
      new UserPoolGroup(this, `${role.groupName[0]!.toUpperCase()}${role.groupName.slice(1)}Group`, {
        userPool: this.userPool,
        groupName: role.groupName,
        precedence: role.precedence,
        description: role.description,
      });
    }
    const signIn = props.signIn;
    if (signIn && signIn.callbackUrls.length === 0) throw new Error('AgentApi signIn: at least one callback URL (the web inbox URL) is required');
    if (signIn?.domainPrefix !== undefined && !Token.isUnresolved(signIn.domainPrefix)
      && (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(signIn.domainPrefix) || /aws|amazon|cognito/.test(signIn.domainPrefix))) {
      throw new Error(`AgentApi signIn.domainPrefix '${signIn.domainPrefix}': 1–63 lowercase letters, digits or hyphens, without 'aws', 'amazon' or 'cognito'`);
    }
    this.userPoolClient = this.userPool.addClient('Client', {
      // A browser or CLI client: a public client cannot keep a secret.
      generateSecret: false,
      // SRP for scripts and the CLI; the inbox uses the hosted UI (below) when signIn is set.
      authFlows: { userSrp: true },
      ...(signIn
        ? {
            // Authorization code + PKCE only: no implicit grant (tokens in URLs), no client credentials.
            oAuth: {
              flows: { authorizationCodeGrant: true },
              scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
              callbackUrls: signIn.callbackUrls,
              logoutUrls: signIn.callbackUrls,
            },
            supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
          }
        : { disableOAuth: true }),
      preventUserExistenceErrors: true,
      // What a signed-in agent may change about themselves through this client: preferences only.
      // By default a client may write every attribute — `name` included, which replies show as
      // {{agent.name}} — so an agent could sign as someone else; names are set by an admin
      // (AdminUpdateUserAttributes). Roles are groups, never attributes (router.ts callerOf).
      writeAttributes: new ClientAttributes().withStandardAttributes({ locale: true, timezone: true }),
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      // About one shift; after that the agent signs in (and passes MFA) again.
      refreshTokenValidity: Duration.hours(12),
    });
    if (signIn) {
      const domain = this.userPool.addDomain('Domain', signIn.customDomain
        ? { customDomain: { domainName: signIn.customDomain.domainName, certificate: signIn.customDomain.certificate } }
        // The stack id's UUID (arn:…:stack/<name>/<uuid>) makes a prefix no other stack has.
        : { cognitoDomain: { domainPrefix: signIn.domainPrefix ?? Fn.join('', ['confluo-', Fn.select(2, Fn.split('/', Stack.of(this).stackId))]) } });
      const host = signIn.customDomain ? signIn.customDomain.domainName : `${domain.domainName}.auth.${Stack.of(this).region}.amazoncognito.com`;
      this.signIn = { domain, host };
      new CfnOutput(this, 'SignInDomain', { value: host, description: 'Cognito hosted-UI domain of the web inbox sign-in' });
      new CfnOutput(this, 'HostedUiUrl', {
        value: domain.signInUrl(this.userPoolClient, { redirectUri: signIn.callbackUrls[0]!, signInPath: '/login' }),
        description: 'The hosted-UI sign-in page (the inbox sends agents there by itself)',
      });
    }

    const { api, url } = defineLoggedHttpApi(this, 'Api', {
      description: 'Confluo Agent API: /api/v1 (JWT from the Confluo user pool)',
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      logRetention,
      ...(props.allowedOrigins?.length ? { corsPreflight: agentApiCors(props.allowedOrigins) } : {}),
    });
    this.api = api;
    this.url = url;

    this.function = new ConfluoFunction(this, 'AgentApiFunction', {
      handlerName: 'agent-api',
      description: 'Confluo Agent API /api/v1: tickets, customers, templates, SLA settings, KPIs',
      // HTTP APIs wait at most 30 s for an integration.
      timeout: Duration.seconds(25),
      memorySize: 512,
      logRetention,
    })
      .bindTable(props.store)
      .bindQueue('CONFLUO_OUTBOUND_QUEUE_URL', props.outboundQueue);
    if (props.secretsPath) this.function.bindSecrets(props.secretsPath);

    // One integration for every route, and one invoke permission for the whole API instead of one
    // per route: ~30 route-scoped permissions would crowd the function's 20 KB resource policy
    // (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
    const integration = new HttpLambdaIntegration('AgentApiIntegration', this.function, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      scopePermissionToRoute: false,
    });
    const authorizer = new HttpUserPoolAuthorizer('AgentAuthorizer', this.userPool, {
      userPoolClients: [this.userPoolClient],
    });
    // One route per entry of the handler's route table, never a greedy `ANY /{proxy+}`: API
    // Gateway answers a CORS preflight from the API's CORS configuration only when no route
    // matches OPTIONS (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html);
    // an ANY route with the JWT authorizer answers the browser's token-less preflight 401. Routes
    // derived from the table also keep API Gateway and the handler from drifting apart.
    for (const key of AGENT_API_ROUTES) {
      const [route] = this.api.addRoutes({
        path: key.path,
        methods: [HttpMethod[key.method]],
        integration,
        authorizer: key.role === null ? new HttpNoneAuthorizer() : authorizer,
      });
      if (key.role === null) {
        const reason = PUBLIC_ROUTE_REASONS[`${key.method} ${key.path}`];
        if (!reason) throw new AgentApiError(`AgentApi: ${key.method} ${key.path} is public (role null) in the route table but has no reason in PUBLIC_ROUTE_REASONS`);
        Validations.of(route!).acknowledge({ id: 'AwsSolutions::AwsSolutions-APIG4', reason: `${key.method} ${key.path} is public: ${reason}` });
      }
    }

    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId, description: 'Cognito user pool of agents (add users to the agent, supervisor or admin group)' });
    new CfnOutput(this, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId, description: 'App client id: the JWT audience of the Agent API' });
  }

  /** Requests the API answered with 5xx. */
  metricServerErrors(props?: MetricOptions): Metric {
    return this.api.metricServerError({ statistic: 'Sum', ...props });
  }
}
