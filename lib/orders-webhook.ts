/**
 * OrdersWebhook: the shop's order push (functions/handlers/orders-webhook.ts) on the webhook HTTP
 * API — `POST /webhooks/orders` (more specific than `/webhooks/{channel}`, so API Gateway routes
 * it here; README "Orders").
 *
 * Least privilege: the function reads verified attributes and customers (BatchGetItem, GetItem)
 * and writes the order and its number item in one transaction (PutItem) — on the table itself,
 * no index, no queue. Of the SSM parameters it reads only CONFLUO_ORDERS_WEBHOOK_SECRET.
 */
import { HttpMethod, type HttpApi, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ConfluoFunction } from './confluo-function.js';
import { publicApiFunction } from './public-api-function.js';

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
    const { fn, routes } = publicApiFunction(this, 'OrdersWebhook', {
      handlerName: 'orders-webhook',
      description: 'Confluo orders: the shop\'s signed order webhook, linked to customers by verified e-mail or phone',
      table: props.store.table, tableActions: ORDERS_WEBHOOK_TABLE_ACTIONS, secretsPath: props.secretsPath, api: props.api,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      publicBecause: 'The shop\'s server cannot present IAM or JWT credentials: every push is authenticated in the function by an HMAC-SHA256 signature over the raw body (CONFLUO_ORDERS_WEBHOOK_SECRET); without the secret the route answers 404.',
    });
    this.function = fn;
    this.routes = routes('/webhooks/orders', [HttpMethod.POST]);
  }
}
