/**
 * HelpApi: the knowledge base's public, read-only endpoints (functions/handlers/help-api.ts) on the
 * webhook HTTP API — `GET /help/search`, `GET /help/articles/{id}`, `POST /help/feedback` and
 * their CORS preflights — for the help centre page and the web-chat widget (README "Knowledge base").
 *
 * Least privilege (public, unauthenticated routes): the function reads the articles and the
 * knowledge base's version counter (GetItem, Query on the table, no index) and adds to its KPI
 * counters (UpdateItem) — {@link HELP_API_TABLE_ACCESS}, nothing else: no PutItem, DeleteItem or
 * transaction, no queue. Of the SSM parameters it reads only CONFLUO_KB_CONFIDENCE and
 * CONFLUO_KB_DEFLECTION (lib/ssm-settings.ts). The stack throttles the routes on the stage
 * (`PUBLIC_ROUTE_THROTTLES.help*`, lib/ingest.ts).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, PayloadFormatVersion, type HttpApi, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ConfluoFunction } from './confluo-function.js';

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
    this.function = new ConfluoFunction(this, 'HelpApiFunction', {
      handlerName: 'help-api',
      description: 'Confluo knowledge base: public article search, articles and "did this answer your question?" counters',
      timeout: Duration.seconds(10),
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      environment: { CONFLUO_TABLE_NAME: props.store.table.tableName },
    }).bindSecrets(props.secretsPath);
    this.function.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: [...HELP_API_TABLE_ACTIONS], resources: [props.store.table.tableArn] }));
    const integration = new HttpLambdaIntegration('HelpApiIntegration', this.function, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
    this.readRoutes = [
      ...props.api.addRoutes({ path: '/help/search', methods: [HttpMethod.GET, HttpMethod.OPTIONS], integration }),
      ...props.api.addRoutes({ path: '/help/articles/{id}', methods: [HttpMethod.GET], integration }),
    ];
    this.feedbackRoutes = props.api.addRoutes({ path: '/help/feedback', methods: [HttpMethod.POST, HttpMethod.OPTIONS], integration });
    for (const route of [...this.readRoutes, ...this.feedbackRoutes]) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason: 'Public by design: the help centre and the web-chat widget serve customers without accounts. The routes read published articles only and add to indicative counters; nothing personal is read or written.',
      });
    }
  }
}
