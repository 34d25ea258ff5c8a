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
import { HttpMethod, type HttpApi, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ConfluoFunction } from './confluo-function.js';
import { publicApiFunction } from './public-api-function.js';

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
    // Not bindTable (read/write on the table and every index): exactly the actions it uses.
    const { fn, routes } = publicApiFunction(this, 'WebchatApi', {
      handlerName: 'webchat-api',
      description: 'Confluo web-chat widget: visitor session tokens and the conversation (replies)',
      table: props.store.table, tableActions: WEBCHAT_API_TABLE_ACCESS.table, indexActions: WEBCHAT_API_TABLE_ACCESS.indexes, secretsPath: props.secretsPath, api: props.api,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      publicBecause: 'Public by design: a shop visitor has no account. The session route only mints an anonymous widget token; the messages and uploads routes verify that HS256 token (WEBCHAT_SECRET) in the function.',
    });
    this.function = fn;
    this.sessionRoutes = routes('/webchat/session', [HttpMethod.POST, HttpMethod.OPTIONS]);
    this.messagesRoutes = routes('/webchat/messages', [HttpMethod.GET, HttpMethod.OPTIONS]);
    this.uploadRoutes = routes('/webchat/uploads', [HttpMethod.POST, HttpMethod.OPTIONS]);
  }
}
