/**
 * Store: Confluo's single DynamoDB table. Its shape (keys, GSIs, TTL attribute) comes from
 * `functions/store/table.ts`, the one place every key is defined, so the table and the code that
 * builds keys cannot drift apart.
 *
 * The construct id 'Store' is part of the contract: renaming it replaces the table, i.e. loses
 * every ticket. Never rename it.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Operation, ProjectionType, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable, Grant } from 'aws-cdk-lib/aws-iam';
import type { IMetric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { TABLE } from '../functions/store/table.js';

export interface StoreProps {
  /**
   * What happens to the table when it is removed from the stack or the stack is deleted.
   * With anything but DESTROY the table also gets deletion protection.
   *
   * @default RemovalPolicy.RETAIN - the table and its data stay in the account
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The single table: pay per request, three GSIs, TTL, a NEW_IMAGE stream, PITR, retained. */
export class Store extends Construct {
  public readonly table: Table;

  constructor(scope: Construct, id: string, props: StoreProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      // Cost follows messages: no capacity to provision or pay for while idle.
      billingMode: BillingMode.PAY_PER_REQUEST,
      // Dedupe markers expire through TTL (deletion within days, hence the ≥ 8-day marker life).
      timeToLiveAttribute: TABLE.ttlAttribute,
      // Change-feed items (pk FEED#…) drive workflows and acknowledgements through the stream.
      stream: StreamViewType.NEW_IMAGE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy,
      deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
    });
    for (const index of TABLE.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    }
  }

  /** The table's name (set as `CONFLUO_TABLE_NAME` by `ConfluoFunction.bindTable`). */
  get tableName(): string {
    return this.table.tableName;
  }

  /** Grant item and index read/write access (prefer `ConfluoFunction.bindTable`). */
  grantReadWriteData(grantee: IGrantable): Grant {
    return this.table.grantReadWriteData(grantee);
  }

  /**
   * Requests throttled by DynamoDB, summed over the operations Confluo uses (on-demand tables
   * throttle only on sudden, very steep peaks).
   */
  metricThrottledRequests(props?: MetricOptions): IMetric {
    return this.table.metricThrottledRequestsForOperations({
      ...props,
      operations: [Operation.GET_ITEM, Operation.QUERY, Operation.PUT_ITEM, Operation.UPDATE_ITEM, Operation.DELETE_ITEM, Operation.TRANSACT_WRITE_ITEMS, Operation.BATCH_WRITE_ITEM],
    });
  }
}
