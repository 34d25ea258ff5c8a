/**
 * WebchatApi: the web-chat widget's own endpoints (channels.md §9) on the webhook HTTP API —
 * `POST /webchat/session` (anonymous visitor token) and `GET /webchat/messages` (the
 * conversation, authorised by that token inside the function, exactly as ingest checks it), plus
 * their CORS preflights. The widget posts its messages to `/webhooks/webchat` like any channel.
 *
 * Least privilege (public, unauthenticated routes): the function reads the visitor's identity
 * (GetItem), their customer's tickets (Query on gsi3 only) and timelines (Query), and marks the
 * replies it serves `delivered` (UpdateItem) — {@link WEBCHAT_API_TABLE_ACCESS}, nothing else: no
 * PutItem, DeleteItem or transaction, no other index, no queue. Of the SSM parameters it may read
 * only the web-chat channel's (`WEBCHAT_SECRET`, `WEBCHAT_ALLOWED_ORIGINS`; lib/ssm-settings.ts).
 * The UpdateItem also counts sessions per client network (`RATE#` items, functions/store/rate-limit.ts).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { HttpMethod, PayloadFormatVersion, type HttpApi, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ConfluoFunction } from './confluo-function.js';

export interface WebchatApiProps {
  readonly store: { readonly table: ITable };
  /** The webhook HTTP API (Ingest) the routes are added to. */
  readonly api: HttpApi;
  /** SSM path of the channel secrets (`WEBCHAT_SECRET`, `WEBCHAT_ALLOWED_ORIGINS`). */
  readonly secretsPath: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** The table access of functions/store/webchat.ts (and markServed → store/outbound.ts `advanceDelivery`). */
export const WEBCHAT_API_TABLE_ACCESS = {
  table: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  indexes: { gsi3: ['dynamodb:Query'] },
} as const;

export class WebchatApi extends Construct {
  public readonly function: ConfluoFunction;
  /** `POST|OPTIONS /webchat/session` (throttled on the webhook API's stage by the stack). */
  public readonly sessionRoutes: HttpRoute[];
  /** `GET|OPTIONS /webchat/messages` (the widget's polling). */
  public readonly messagesRoutes: HttpRoute[];
  /** `POST|OPTIONS /webchat/uploads` (a visitor's file: a presigned POST form under the session's prefix). */
  public readonly uploadRoutes: HttpRoute[];

  constructor(scope: Construct, id: string, props: WebchatApiProps) {
    super(scope, id);
    this.function = new ConfluoFunction(this, 'WebchatApiFunction', {
      handlerName: 'webchat-api',
      description: 'Confluo web-chat widget: visitor session tokens and the conversation (replies)',
      timeout: Duration.seconds(10),
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      environment: { CONFLUO_TABLE_NAME: props.store.table.tableName },
    }).bindSecrets(props.secretsPath);
    // Not bindTable (read/write on the table and every index): exactly the actions it uses.
    const table = props.store.table.tableArn;
    this.function.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: [...WEBCHAT_API_TABLE_ACCESS.table], resources: [table] }));
    for (const [index, actions] of Object.entries(WEBCHAT_API_TABLE_ACCESS.indexes)) {
      this.function.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: [...actions], resources: [`${table}/index/${index}`] }));
    }
    const integration = new HttpLambdaIntegration('WebchatApiIntegration', this.function, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
    this.sessionRoutes = props.api.addRoutes({ path: '/webchat/session', methods: [HttpMethod.POST, HttpMethod.OPTIONS], integration });
    this.messagesRoutes = props.api.addRoutes({ path: '/webchat/messages', methods: [HttpMethod.GET, HttpMethod.OPTIONS], integration });
    this.uploadRoutes = props.api.addRoutes({ path: '/webchat/uploads', methods: [HttpMethod.POST, HttpMethod.OPTIONS], integration });
    const routes = [...this.sessionRoutes, ...this.messagesRoutes, ...this.uploadRoutes];
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason: 'Public by design: a shop visitor has no account. The session route only mints an anonymous widget token; the messages and uploads routes verify that HS256 token (WEBCHAT_SECRET) in the function.',
      });
    }
  }
}
