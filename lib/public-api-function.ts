/**
 * What the public, unauthenticated endpoints on the webhook HTTP API (web chat, survey links, the
 * help centre, the orders webhook) build alike: a 10-second function with the table's name, its
 * settings read from SSM (`bindSecrets`), exactly the DynamoDB actions it uses — on the table and,
 * where given, on named indexes, never `table.grant()` (which adds every index) — and its routes
 * on the API through one payload-2.0 Lambda integration, each route acknowledged for cdk-nag's
 * APIG4 (no authorizer) with the reason the caller gives: who calls it and how the function
 * authenticates them instead.
 *
 * The function is `<id>Function` and the integration `<id>Integration` under `scope`, as the
 * constructs named them before they shared this.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { PayloadFormatVersion, type HttpApi, type HttpMethod, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ConfluoFunction, type HandlerName } from './confluo-function.js';

export interface PublicApiFunctionProps {
  readonly handlerName: HandlerName;
  readonly description: string;
  readonly table: ITable;
  /** The actions on the table itself. */
  readonly tableActions: readonly string[];
  /** The actions per index (by index name), if it queries any. */
  readonly indexActions?: Readonly<Record<string, readonly string[]>>;
  /** SSM path of the settings the function reads (lib/ssm-settings.ts narrows them per function). */
  readonly secretsPath: string;
  /** Settings passed in the environment beside the table's name. */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  readonly api: HttpApi;
  /** Why the routes have no authorizer (cdk-nag AwsSolutions-APIG4), i.e. how the function authenticates. */
  readonly publicBecause: string;
}

export interface PublicApiFunction {
  readonly fn: ConfluoFunction;
  /** Adds `path` with `methods` to the API through the function's integration. */
  readonly routes: (path: string, methods: HttpMethod[]) => HttpRoute[];
}

export function publicApiFunction(scope: Construct, id: string, props: PublicApiFunctionProps): PublicApiFunction {
  const fn = new ConfluoFunction(scope, `${id}Function`, {
    handlerName: props.handlerName,
    description: props.description,
    timeout: Duration.seconds(10),
    logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
    environment: { CONFLUO_TABLE_NAME: props.table.tableName, ...(props.environment ?? {}) },
  }).bindSecrets(props.secretsPath);
  const table = props.table.tableArn;
  fn.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: [...props.tableActions], resources: [table] }));
  for (const [index, actions] of Object.entries(props.indexActions ?? {})) {
    fn.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: [...actions], resources: [`${table}/index/${index}`] }));
  }
  const integration = new HttpLambdaIntegration(`${id}Integration`, fn, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 });
  return {
    fn,
    routes: (path, methods) => {
      const added = props.api.addRoutes({ path, methods, integration });
      for (const route of added) Validations.of(route).acknowledge({ id: 'AwsSolutions::AwsSolutions-APIG4', reason: props.publicBecause });
      return added;
    },
  };
}
