/**
 * OrdersWebhook: the shop's order push (functions/handlers/orders-webhook.ts) on the webhook HTTP
 * API — `POST /webhooks/orders` (more specific than `/webhooks/{channel}`, so API Gateway routes
 * it here; README "Orders").
 *
 * Least privilege: the function reads verified attributes and customers (BatchGetItem, GetItem)
 * and writes the order and its number item in one transaction (PutItem) — on the table itself,
 * no index, no queue. Of the SSM parameters it reads only CONFLUO_ORDERS_WEBHOOK_SECRET.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, PayloadFormatVersion, type HttpApi, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ConfluoFunction } from './confluo-function.js';

export interface OrdersWebhookProps {
  readonly store: { readonly table: ITable };
  readonly api: HttpApi;
  readonly secretsPath: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

export const ORDERS_WEBHOOK_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'] as const;

export class OrdersWebhook extends Construct {
  public readonly function: ConfluoFunction;
  public readonly routes: HttpRoute[];

  constructor(scope: Construct, id: string, props: OrdersWebhookProps) {
    super(scope, id);
    this.function = new ConfluoFunction(this, 'OrdersWebhookFunction', {
      handlerName: 'orders-webhook',
      description: 'Confluo orders: the shop\'s signed order webhook, linked to customers by verified e-mail or phone',
      timeout: Duration.seconds(10),
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      environment: { CONFLUO_TABLE_NAME: props.store.table.tableName },
    }).bindSecrets(props.secretsPath);
    this.function.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: [...ORDERS_WEBHOOK_TABLE_ACTIONS], resources: [props.store.table.tableArn] }));
    const integration = new HttpLambdaIntegration('OrdersWebhookIntegration', this.function, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
    this.routes = props.api.addRoutes({ path: '/webhooks/orders', methods: [HttpMethod.POST], integration });
    for (const route of this.routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason: 'The shop\'s server cannot present IAM or JWT credentials: every push is authenticated in the function by an HMAC-SHA256 signature over the raw body (CONFLUO_ORDERS_WEBHOOK_SECRET); without the secret the route answers 404.',
      });
    }
  }
}
