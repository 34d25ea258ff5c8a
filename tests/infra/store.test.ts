import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TABLE } from '../../functions/store/table.js';
import { Store } from '../../lib/store.js';
import { testStack } from './helpers.js';

// GIVEN a stack with a default Store, and one with RemovalPolicy.DESTROY
const retained = (() => {
  const stack = testStack();
  const store = new Store(stack, 'Store');
  return { store, template: Template.fromStack(stack) };
})();
const disposable = (() => {
  const stack = testStack();
  new Store(stack, 'Store', { removalPolicy: RemovalPolicy.DESTROY });
  return Template.fromStack(stack);
})();

describe('Store', () => {
  it('defines exactly one pay-per-request table keyed by string pk/sk', () => {
    retained.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    retained.template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
    });
  });

  it('defines the three GSIs of functions/store/table.ts with string keys and ALL projection', () => {
    const table = Object.values(retained.template.findResources('AWS::DynamoDB::Table'))[0]!;
    const gsis = table.Properties.GlobalSecondaryIndexes as Array<Record<string, unknown>>;
    expect(gsis).toEqual(TABLE.indexes.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' },
        { AttributeName: i.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })));
    expect(gsis.map((g) => g.IndexName)).toEqual(['gsi1', 'gsi2', 'gsi3']);
    for (const i of TABLE.indexes) {
      expect(table.Properties.AttributeDefinitions).toContainEqual({ AttributeName: i.partitionKey, AttributeType: 'S' });
      expect(table.Properties.AttributeDefinitions).toContainEqual({ AttributeName: i.sortKey, AttributeType: 'S' });
    }
  });

  it('expires items through the ttl attribute', () => {
    retained.template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  it('streams new images (the change feed drives dispatch)', () => {
    retained.template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    });
  });

  it('enables point-in-time recovery and AWS-managed encryption', () => {
    retained.template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent(), SSEType: Match.absent() },
    });
  });

  it('retains the table and protects it from deletion by default', () => {
    retained.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });

  it('deletes the table without deletion protection when removalPolicy is DESTROY', () => {
    disposable.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
  });

  it('keeps the construct id in the table logical id (renaming Store would replace the table)', () => {
    const [logicalId] = Object.keys(retained.template.findResources('AWS::DynamoDB::Table'));
    expect(logicalId).toMatch(/^StoreTable[0-9A-F]{8}$/);
  });

  it('sums throttled requests over the operations Confluo uses', () => {
    const config = retained.store.metricThrottledRequests().toMetricConfig();
    expect(config.mathExpression?.expression).toContain('+');
    expect(Object.keys(config.mathExpression?.usingMetrics ?? {}).length).toBeGreaterThanOrEqual(5);
  });
});
