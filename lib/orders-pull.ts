/**
 * OrdersPull: the Shopify orders pull (functions/handlers/orders-pull.ts; README "Orders" →
 * "Shopify"). Created by the stack only when it is given the shop (`-c shopifyShop=acme.myshopify.com`);
 * without it nothing of this exists.
 *
 * - The function, run by an EventBridge schedule every `pullMinutes` (default 5). A run reads a
 *   bounded number of pages and keeps its place in the table, so a missed or failed run is made
 *   good by the next one: the rule target is not retried (a retry could only overlap the next
 *   run) and there is no dead-letter queue to watch. A run that fails (bad token, missing scope)
 *   shows as the function's Errors, alarmed like every function's (lib/observability.ts).
 * - Least privilege: of the SSM parameters it reads only the Shopify token or app credentials;
 *   on the table, without any index, GetItem/BatchGetItem (its place, the verified e-mail and
 *   phone items, the customers they name), PutItem (its place; the order and its number item,
 *   in one transaction) and ConditionCheckItem. No queue, no bucket.
 */
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SHOP_DOMAIN } from '../functions/domain/shopify-names.js';
import { ConfluoFunction } from './confluo-function.js';

export interface OrdersPullProps {
  /** The shop's permanent domain, `<name>.myshopify.com`. */
  readonly shop: string;
  readonly store: { readonly table: ITable };
  readonly secretsPath: string;
  /**
   * Minutes between runs (1–1440).
   *
   * @default 5
   */
  readonly pullMinutes?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** What the pull does to the table (functions/store/orders.ts `getPullState`, `putPullState`, `storeShopOrder`). */
export const ORDERS_PULL_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'] as const;

export class OrdersPull extends Construct {
  public readonly function: ConfluoFunction;
  public readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: OrdersPullProps) {
    super(scope, id);
    if (!SHOP_DOMAIN.test(props.shop)) throw new Error(`OrdersPull: shop must be the shop's permanent domain <name>.myshopify.com, got '${props.shop}'`);
    const minutes = props.pullMinutes ?? 5;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) throw new Error(`OrdersPull: pullMinutes must be a whole number 1–1440, got ${minutes}`);
    this.function = new ConfluoFunction(this, 'OrdersPullFunction', {
      handlerName: 'orders-pull',
      description: 'Confluo orders: pulls the shop\'s orders from Shopify\'s Admin API, linked to customers by verified e-mail or phone',
      // Eight pages of 25 orders and their writes take a few seconds; the rest is Shopify's latency.
      timeout: Duration.seconds(60),
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      environment: { CONFLUO_TABLE_NAME: props.store.table.tableName, CONFLUO_SHOPIFY_SHOP: props.shop },
    }).bindSecrets(props.secretsPath);
    this.function.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: [...ORDERS_PULL_TABLE_ACTIONS], resources: [props.store.table.tableArn] }));
    this.schedule = new Rule(this, 'Schedule', {
      description: `Pull the orders of ${props.shop} from Shopify every ${minutes} minute${minutes === 1 ? '' : 's'}`,
      schedule: Schedule.rate(Duration.minutes(minutes)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}
