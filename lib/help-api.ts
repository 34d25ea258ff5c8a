/**
 * HelpApi: the knowledge base's public, read-only endpoints (functions/handlers/help-api.ts) on the
 * webhook HTTP API — `GET /help/search`, `GET /help/articles/{id}`, `POST /help/feedback` and
 * their CORS preflights — for the help centre page and the web-chat widget (README "Knowledge base").
 *
 * Least privilege (public, unauthenticated routes): the function reads the articles and the
 * knowledge base's version counter (GetItem, Query on the table, no index) and adds to its KPI
 * counters (UpdateItem) — {@link HELP_API_TABLE_ACTIONS}, nothing else: no PutItem, DeleteItem or
 * transaction, no queue. Of the SSM parameters it reads only CONFLUO_KB_CONFIDENCE and
 * CONFLUO_KB_DEFLECTION (lib/ssm-settings.ts). The stack throttles the routes on the stage
 * (`PUBLIC_ROUTE_THROTTLES.help*`, lib/ingest.ts).
 */
import { HttpMethod, type HttpApi, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ConfluoFunction } from './confluo-function.js';
import { publicApiFunction } from './public-api-function.js';

export interface HelpApiProps {
  readonly store: { readonly table: ITable };
  /** The webhook HTTP API (Ingest) the routes are added to. */
  readonly api: HttpApi;
  /** SSM path of the settings (CONFLUO_KB_*). */
  readonly secretsPath: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** The table access of functions/store/kb.ts as the help API uses it. */
export const HELP_API_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'] as const;

export class HelpApi extends Construct {
  public readonly function: ConfluoFunction;
  /** `GET|OPTIONS /help/search`, `GET /help/articles/{id}` (reads). */
  public readonly readRoutes: HttpRoute[];
  /** `POST|OPTIONS /help/feedback` (counters). */
  public readonly feedbackRoutes: HttpRoute[];

  constructor(scope: Construct, id: string, props: HelpApiProps) {
    super(scope, id);
    const { fn, routes } = publicApiFunction(this, 'HelpApi', {
      handlerName: 'help-api',
      description: 'Confluo knowledge base: public article search, articles and "did this answer your question?" counters',
      table: props.store.table, tableActions: HELP_API_TABLE_ACTIONS, secretsPath: props.secretsPath, api: props.api,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      publicBecause: 'Public by design: the help centre and the web-chat widget serve customers without accounts. The routes read published articles only and add to indicative counters; nothing personal is read or written.',
    });
    this.function = fn;
    this.readRoutes = [...routes('/help/search', [HttpMethod.GET, HttpMethod.OPTIONS]), ...routes('/help/articles/{id}', [HttpMethod.GET])];
    this.feedbackRoutes = routes('/help/feedback', [HttpMethod.POST, HttpMethod.OPTIONS]);
  }
}
