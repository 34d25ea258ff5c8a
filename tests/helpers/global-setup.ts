/**
 * One DynamoDB Local for the whole run (in memory). Tests create their own tables with random
 * names (tests/helpers/ddb.ts), so files run in parallel without sharing state. The Java child
 * is stopped by its pid in teardown.
 */
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext { ddbEndpoint: string }
}

export default async function setup(project: TestProject) {
  const ddb = await startDynamoDbLocal({ inMemory: true });
  project.provide('ddbEndpoint', ddb.endpoint);
  return async () => { await ddb.stop(); };
}
