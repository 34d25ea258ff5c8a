/**
 * The synthesised stack "deployed" offline: the run's emulators emptied, the template's resources
 * created from its own properties, channel secrets stored where the functions read them, and every
 * function's bundled asset run in a Lambda-like host with the environment the template gives it.
 * What moto does not do is played by drivers built from the template too: the SQS and DynamoDB
 * stream event source mappings (harness/sqs-source.ts, harness/stream-source.ts), the schedule
 * rule, Step Functions executions (harness/step-functions.ts), the HTTP APIs (harness/http.ts).
 *
 *   const d = await startDeployment({ workDir, assembly, emulators: inject('deployEmulators') });
 *   await d.http.request({ method: 'POST', path: '/webhooks/telegram', headers, body });
 *   await d.http.request({ method: 'GET', path: '/api/v1/tickets', token: await d.agentToken(sub, ['agent']) });
 *   await d.settle();                // queues, stream and workflows until quiet
 *   d.advanceClock(61 * 60_000);     // an hour passes: due Wait states run, functions read the new time
 *   d.platforms.to('telegram')       // what would have reached Telegram
 *   await d.sentMail()               // what SES sent (moto)
 *   await d.stop();                  // every host stopped by its pid
 *
 * Scenarios only call this surface (plus the emulators' SDK clients in `d.aws`); they never build
 * events themselves.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { S3Client } from '@aws-sdk/client-s3';
import { GetSendQuotaCommand, SESClient, VerifyEmailIdentityCommand } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SETTINGS } from '../../../functions/runtime/config.js';
import { createDb, type Db } from '../../../functions/store/db.js';
import { VirtualClock } from '../../../local/clock.js';
import { SAMPLE_SETTINGS } from '../../../local/sample-settings.js';
import { TEST_SECRETS } from '../../../functions/runtime/config.js';
import { eventSourceMappingsOf, matchesPattern, type FilterPattern } from '../../../local/stream-events.js';
import { functionOf, referencedLogicalId } from '../../../local/template.js';
import type { Definition } from '../../../local/workflows.js';
import { REPO_ROOT, STACK_NAME, SYNTH_CONTEXT, type Assembly, type FunctionResource } from '../support/assembly.js';
import { SimulatedShop } from '../../../local/shopify-simulator.js';
import { LambdaHost } from '../support/lambda-host.js';
import { prepareLambdaTask, type LambdaTask } from '../support/lambda-task.js';
import { TestUserPool } from './cognito.js';
import { DeploymentHttp, deployedHttpApis } from './http.js';
import { CREDENTIALS, lambdaEnvironment } from './lambda-env.js';
import { Moto, MOTO_ACCOUNT } from './moto.js';
import { FakePlatforms } from './platforms.js';
import { createResources, type PhysicalResources } from './resources.js';
import { SqsEventSource } from './sqs-source.js';
import { startSsmFaults, type SsmFaults } from './ssm-faults.js';
import { StepFunctionsDriver } from './step-functions.js';
import { DynamoStreamSource } from './stream-source.js';

/**
 * The e-mail channel's SES region: the sample SNS topic's (EMAIL_SNS_TOPIC_ARN of
 * local/sample-settings.ts, which the e-mail samples are signed for), read from the ARN.
 */
export const SES_REGION = SAMPLE_SETTINGS.EMAIL_SNS_TOPIC_ARN!.split(':')[3]!;
/** The deployment's region by default: the e-mail channel's (`startDeployment({ region })` picks another). */
export const REGION = SES_REGION;

/**
 * Secrets of this deployment in place of the public test secrets, which the AWS platform refuses
 * (functions/runtime/config.ts `refuseTestSecrets`): same names, values of its own. Requests to it
 * are signed with these (`deploymentSigned`).
 */
export const DEPLOYMENT_SECRETS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.keys(TEST_SECRETS).map((k) => [k, k === 'VK_CONFIRMATION' ? 'd3pl0y01' : `deployment-test-${k.toLowerCase().replaceAll('_', '-')}-0123456789abcdef`]),
);

/** A Telegram sample request signed for this deployment (its secret-token header). */
export function deploymentSigned(req: { headers: Record<string, string>; body: string }): { headers: Record<string, string>; body: string } {
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, k.toLowerCase() === 'x-telegram-bot-api-secret-token' ? DEPLOYMENT_SECRETS.TELEGRAM_SECRET_TOKEN! : v]));
  return { ...req, headers };
}

/**
 * What an operator stores under the secrets path: the sample settings (local/sample-settings.ts)
 * with this deployment's own secrets instead of the public test ones, the test PKI as absolute
 * paths, and placeholder outbound tokens (their requests only reach the fake platforms).
 * EMAIL_FROM is the template's (SYNTH_CONTEXT), not a parameter.
 */
export function deploymentSettings(): Record<string, string> {
  const { EMAIL_FROM: _templateOwnsIt, ...samples } = SAMPLE_SETTINGS;
  return {
    ...samples,
    ...DEPLOYMENT_SECRETS,
    SNS_CERT_DIR: `${REPO_ROOT}functions/channels/email/samples/pki`,
    SNS_TRUST_ROOT_PEM: `${REPO_ROOT}functions/channels/email/samples/pki/test-ca.pem`,
    TELEGRAM_BOT_TOKEN: '7000000001:deployment-test-bot-token',
    WHATSAPP_ACCESS_TOKEN: 'deployment-test-whatsapp-token',
    WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
    META_PAGE_ACCESS_TOKEN: 'deployment-test-page-token',
    VK_ACCESS_TOKEN: 'deployment-test-vk-token',
    TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
  };
}

const SECRET_NAMES = new Set<string>(SETTINGS.filter((s) => 'secret' in s && s.secret).map((s) => s.name));

/** Endpoints of the run's emulators (started once by global-setup.ts). */
export interface EmulatorEndpoints {
  readonly moto: string;
  readonly dynamodb: string;
}

export interface DeploymentOptions {
  readonly workDir: string;
  readonly assembly: Assembly;
  readonly emulators: EmulatorEndpoints;
  /** The stack's region (AWS_REGION of every function). Default REGION, the e-mail channel's SES region. */
  readonly region?: string;
  /** Make failed SQS records visible again at once (default true: retries within a test's time). */
  readonly releaseFailedRecords?: boolean;
}

/** A mail SES sent, as moto records it. */
export interface SentMail {
  /** SES's MessageId (the Message-ID SES gives the mail is `<id>@<region>.amazonses.com`). */
  readonly id: string;
  readonly source: string;
  readonly destinations: readonly string[];
  readonly raw_data: string;
}

export interface AwsClients {
  readonly ddb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly streams: DynamoDBStreamsClient;
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
  /** SES in the e-mail channel's region (SES_REGION), where EMAIL_FROM is a verified identity. */
  readonly ses: SESClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
}

export class Deployment {
  readonly platforms = new FakePlatforms(new SimulatedShop({ shop: SYNTH_CONTEXT.shopifyShop!, token: DEPLOYMENT_SECRETS.CONFLUO_SHOPIFY_ACCESS_TOKEN! }));
  /** One execution environment per function, by logical id (each starts on its first invocation). */
  readonly hosts: ReadonlyMap<string, LambdaHost>;
  /** SQS event source mappings, by the handler file of the function they invoke (`process`, `send`). */
  readonly queues = new Map<string, SqsEventSource>();
  readonly streams: DynamoStreamSource[] = [];
  readonly http: DeploymentHttp;
  readonly stepFunctions: StepFunctionsDriver;
  /** The stack's region: every function's AWS_REGION. */
  readonly region: string;
  private readonly functions: FunctionResource[];
  private readonly sesClients = new Map<string, SESClient>();

  constructor(
    readonly assembly: Assembly,
    readonly phys: PhysicalResources,
    readonly aws: AwsClients,
    readonly moto: Moto,
    readonly dynamodb: { readonly endpoint: string },
    readonly ssmFaults: SsmFaults,
    readonly userPool: TestUserPool,
    /**
     * Real time unless advanced (`advanceClock`): Wait states of the workflows run on it, the
     * HTTP APIs stamp requests and check tokens with it, and every function's `Date` reads it.
     */
    readonly clock: VirtualClock,
    tasks: ReadonlyMap<string, LambdaTask>,
    opts: DeploymentOptions,
  ) {
    this.region = opts.region ?? REGION;
    this.functions = assembly.functions();
    this.hosts = new Map(this.functions.map((fn) => {
      const task = tasks.get(fn.logicalId)!;
      const env = lambdaEnvironment(fn, phys, { region: this.region, taskRoot: task.root, endpoints: { moto: moto.endpoint, ssm: ssmFaults.endpoint, dynamodb: dynamodb.endpoint } });
      return [fn.logicalId, new LambdaHost({
        name: fn.handlerName, moduleFile: task.moduleFile, exportName: task.exportName, env, cwd: task.root,
        timeoutSeconds: fn.timeoutSeconds, functionArn: phys.getAtt(fn.logicalId, 'Arn'), onFetch: this.platforms.answer,
        clockOffsetMs: () => this.clock.now() - Date.now(),
      })];
    }));
    const invokeById = (logicalId: string, event: unknown) => this.hostOf(logicalId).invoke(event);
    this.http = new DeploymentHttp(deployedHttpApis(assembly.template, phys), invokeById, { verifyJwt: userPool.verify, now: () => this.clock.now() });

    const mappings = eventSourceMappingsOf(assembly.template);
    for (const m of mappings.queues) {
      this.queues.set(m.handler, new SqsEventSource({
        sqs: aws.sqs, queueUrl: phys.ref(m.queueLogicalId), queueArn: phys.getAtt(m.queueLogicalId, 'Arn'), region: this.region,
        batchSize: m.batchSize, reportBatchItemFailures: m.reportBatchItemFailures, releaseFailed: opts.releaseFailedRecords ?? true,
        invoke: (event) => this.hostOf(m.functionLogicalId).invoke(event),
      }));
    }
    for (const m of mappings.streams) {
      const failureQueue = m.onFailure ? phys.getAtt(m.onFailure.logicalId, 'Arn') : undefined;
      if (m.onFailure && m.onFailure.type !== 'AWS::SQS::Queue') throw new Error(`deployment: ${m.logicalId} sends failures to a ${m.onFailure.type}, which is not emulated`);
      this.streams.push(new DynamoStreamSource({
        mapping: m, client: aws.streams, streamArn: phys.getAtt(m.tableLogicalId, 'StreamArn'), region: this.region,
        functionArn: phys.getAtt(m.functionLogicalId, 'Arn'),
        invoke: (event) => this.hostOf(m.functionLogicalId).invoke(event),
        ...(failureQueue ? { onFailure: (info) => this.sendToArn(failureQueue, info) } : {}),
      }));
    }

    const machines = assembly.resourcesOf('AWS::StepFunctions::StateMachine').map(([id, r]) => {
      const definition = JSON.parse(phys.resolveString(r.Properties?.DefinitionString)) as Definition;
      const lambdas: Record<string, (payload: unknown) => Promise<unknown>> = {};
      for (const f of this.functions) lambdas[phys.getAtt(f.logicalId, 'Arn')] = (payload) => this.hostOf(f.logicalId).invoke(payload);
      return { logicalId: id, arn: phys.ref(id), definition, lambdas };
    });
    this.stepFunctions = new StepFunctionsDriver(aws.sfn, machines, this.clock);
  }

  /** The host of the function whose handler file is `handlerName` (started on first use). */
  host(handlerName: string): LambdaHost {
    return this.hostOf(this.assembly.fn(handlerName).logicalId);
  }

  hostOf(logicalId: string): LambdaHost {
    const h = this.hosts.get(logicalId);
    if (!h) throw new Error(`deployment: ${logicalId} is not a function of the template`);
    return h;
  }

  /**
   * Let `ms` of time pass at once: the virtual clock moves, Wait states that are due now run,
   * and from the next invocation on every function's clock reads the new time.
   */
  advanceClock(ms: number): void {
    this.clock.advance(ms);
  }

  /**
   * An ID token of the agents' user pool for the Agent API's JWT authorizer (its issuer and
   * audience), with `cognito:groups` as given, e.g. `['agent']`.
   */
  agentToken(sub: string, groups: readonly string[], extra: { name?: string; email?: string } = {}): Promise<string> {
    const auths = [...new Map(this.http.jwtRoutes().map((r) => [JSON.stringify(r.authorization), r.authorization])).values()];
    if (auths.length !== 1 || auths[0]!.type !== 'JWT') throw new Error(`deployment: expected one JWT authorizer configuration, found ${auths.length}`);
    const a = auths[0]!;
    if (a.audience.length !== 1) throw new Error(`deployment: the authorizer names ${a.audience.length} audiences`);
    return this.userPool.idToken({ sub, groups, issuer: a.issuer, audience: a.audience[0]!, ...extra });
  }

  /** The environment a function runs with (by handler file). */
  hostEnv(handlerName: string): Readonly<Record<string, string>> {
    return this.host(handlerName).opts.env;
  }

  /** An SES client of moto in `region` (moto keeps SES identities and sent mail per region). */
  sesIn(region: string): SESClient {
    let c = this.sesClients.get(region);
    if (!c) this.sesClients.set(region, (c = new SESClient(clientConfig(this.moto.endpoint, region))));
    return c;
  }

  /** Recipients of the mail SES sent in `region` so far (GetSendQuota's SentLast24Hours, per region in moto). */
  async sesSentCount(region: string): Promise<number> {
    return (await this.sesIn(region).send(new GetSendQuotaCommand({}))).SentLast24Hours ?? 0;
  }

  /** Every raw mail SES sent, in any region (moto's `ses.RawMessage`; the id is SES's MessageId). */
  async sentMail(): Promise<SentMail[]> {
    return ((await this.moto.data()).ses?.RawMessage ?? []) as SentMail[];
  }

  /** A document client on the deployment's table, for assertions (`createDb` of functions/store). */
  db(): Db {
    const tables = this.assembly.resourcesOf('AWS::DynamoDB::Table');
    if (tables.length !== 1) throw new Error(`deployment: expected one table, the template has ${tables.length}`);
    return createDb(this.phys.ref(tables[0]![0]), clientConfig(this.dynamodb.endpoint, this.region));
  }

  /** URL and ARN of a queue by logical id. */
  queue(logicalId: string): { url: string; arn: string } {
    return { url: this.phys.ref(logicalId), arn: this.phys.getAtt(logicalId, 'Arn') };
  }

  /** The EventBridge rule's targets invoked with a Scheduled Event, as the schedule would. */
  async fireSchedule(ruleLogicalId: string): Promise<unknown[]> {
    const rule = this.assembly.resource(ruleLogicalId);
    const name = `${STACK_NAME}-${ruleLogicalId}`.slice(0, 64);
    const results: unknown[] = [];
    for (const t of (rule.Properties?.Targets as Array<{ Arn: unknown; Input?: string }>) ?? []) {
      const fnId = functionOf(this.assembly.template, t.Arn, `target of rule ${ruleLogicalId}`).logicalId;
      const event = t.Input !== undefined ? JSON.parse(t.Input) : {
        version: '0', id: crypto.randomUUID(), 'detail-type': 'Scheduled Event', source: 'aws.events', account: MOTO_ACCOUNT,
        time: new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), region: this.region,
        resources: [`arn:aws:events:${this.region}:${MOTO_ACCOUNT}:rule/${name}`], detail: {},
      };
      results.push(await this.hostOf(fnId).invoke(event));
    }
    return results;
  }

  /**
   * A contact flow's "Invoke AWS Lambda function" block: the function the template makes callable
   * from the Connect instance (`AWS::Connect::IntegrationAssociation` of type LAMBDA_FUNCTION)
   * invoked synchronously with the flow's event; its answer is what the flow reads as `$.External`
   * (https://docs.aws.amazon.com/connect/latest/adminguide/connect-lambda-functions.html).
   */
  async connectFlowInvoke(event: unknown): Promise<unknown> {
    const associations = this.assembly.resourcesOf('AWS::Connect::IntegrationAssociation').filter(([, r]) => r.Properties?.IntegrationType === 'LAMBDA_FUNCTION');
    if (associations.length !== 1) throw new Error(`deployment: expected one Lambda integration of the Connect instance, the template has ${associations.length}`);
    const [id, r] = associations[0]!;
    return this.hostOf(functionOf(this.assembly.template, r.Properties!.IntegrationArn, `integration ${id}`).logicalId).invoke(event);
  }

  /**
   * An event an AWS service puts on the account's default bus (e.g. Amazon Connect's contact
   * events): every rule of the template on that bus whose `EventPattern` matches it (EventBridge's
   * pattern syntax, local/stream-events.ts `matchesPattern`) delivers it to its targets. A Lambda
   * target is invoked asynchronously, with the event itself as payload (no Input/InputPath/
   * InputTransformer is emulated: a target with one fails here). Lambda retries a failed
   * asynchronous invocation `MaximumRetryAttempts` times (the function's
   * `AWS::Lambda::EventInvokeConfig`, default 2) and then sends an invocation record to its
   * OnFailure destination
   * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html). The
   * target's own DeadLetterConfig and RetryPolicy cover failed deliveries to Lambda, which do not
   * happen here. Returns each target's outcome: what the last invocation answered, or its error.
   */
  async putEvent(event: { source: string; 'detail-type': string; [k: string]: unknown }): Promise<Array<{ rule: string; handler: string; result?: unknown; error?: unknown; attempts: number }>> {
    const rules = this.assembly.resourcesOf('AWS::Events::Rule').filter(([, r]) => {
      const p = r.Properties ?? {};
      return p.EventPattern !== undefined && p.EventBusName === undefined && p.State !== 'DISABLED'
        && matchesPattern(this.phys.resolve(p.EventPattern) as FilterPattern, event);
    });
    const outcomes: Array<{ rule: string; handler: string; result?: unknown; error?: unknown; attempts: number }> = [];
    for (const [ruleId, rule] of rules) {
      for (const t of (rule.Properties?.Targets as Array<Record<string, unknown>>) ?? []) {
        const transforms = ['Input', 'InputPath', 'InputTransformer'].filter((k) => t[k] !== undefined);
        if (transforms.length) throw new Error(`deployment: target ${String(t.Id)} of rule ${ruleId} has ${transforms.join(', ')}, which is not emulated`);
        const fn = functionOf(this.assembly.template, t.Arn, `target of rule ${ruleId}`);
        const config = this.asyncInvokeConfig(fn.logicalId);
        const host = this.hostOf(fn.logicalId);
        let attempts = 0;
        let error: unknown;
        for (;;) {
          attempts += 1;
          try {
            outcomes.push({ rule: ruleId, handler: host.opts.name, result: await host.invoke(event), attempts });
            break;
          } catch (e) {
            error = (e as { error?: unknown }).error ?? e;
            if (attempts <= config.retries) continue;
            if (config.onFailure) {
              await this.sendToArn(config.onFailure, {
                version: '1.0', timestamp: new Date(this.clock.now()).toISOString(),
                requestContext: { requestId: crypto.randomUUID(), functionArn: `${this.phys.getAtt(fn.logicalId, 'Arn')}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: attempts },
                requestPayload: event, responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' }, responsePayload: error,
              });
            }
            outcomes.push({ rule: ruleId, handler: host.opts.name, error, attempts });
            break;
          }
        }
      }
    }
    return outcomes;
  }

  /** The asynchronous invocation settings of a function (its `AWS::Lambda::EventInvokeConfig`, or Lambda's defaults). */
  private asyncInvokeConfig(fnLogicalId: string): { retries: number; onFailure?: string } {
    const configs = this.assembly.resourcesOf('AWS::Lambda::EventInvokeConfig').filter(([, r]) => referencedLogicalId(r.Properties?.FunctionName) === fnLogicalId);
    if (configs.length > 1) throw new Error(`deployment: ${fnLogicalId} has ${configs.length} EventInvokeConfigs`);
    const p = configs[0]?.[1].Properties ?? {};
    if (p.Qualifier !== undefined && p.Qualifier !== '$LATEST') throw new Error(`deployment: the EventInvokeConfig of ${fnLogicalId} is for ${String(p.Qualifier)}, not $LATEST`);
    const destination = (p.DestinationConfig as { OnFailure?: { Destination?: unknown }; OnSuccess?: unknown } | undefined);
    if (destination?.OnSuccess) throw new Error(`deployment: OnSuccess destinations (${fnLogicalId}) are not emulated`);
    const onFailure = destination?.OnFailure?.Destination;
    if (onFailure !== undefined) {
      const target = referencedLogicalId(onFailure);
      if (!target || this.assembly.resource(target).Type !== 'AWS::SQS::Queue') throw new Error(`deployment: the OnFailure destination of ${fnLogicalId} is not an SQS queue of the template, which is what is emulated`);
    }
    return { retries: p.MaximumRetryAttempts === undefined ? 2 : Number(p.MaximumRetryAttempts), ...(onFailure !== undefined ? { onFailure: this.phys.resolveString(onFailure) } : {}) };
  }

  /**
   * Run the event sources until a full pass over queues, stream and workflows finds nothing to do.
   * Failed records come back at once (releaseFailedRecords), so a poison record settles once it is
   * dead-lettered; `maxRounds` bounds that.
   */
  async settle(maxRounds = 30): Promise<void> {
    const engine = this.stepFunctions.engine;
    for (let round = 0; round < maxRounds; round++) {
      // Steps run on their own (a clock advance makes Waits due): the ones that ran during this
      // round may have written to the table or a queue, so they count as work too.
      const steps = engine.steps;
      let n = 0;
      for (const q of this.queues.values()) n += await q.drain();
      for (const s of this.streams) n += await s.drain();
      n += await this.stepFunctions.sync();
      await engine.whenIdle();
      n += engine.steps - steps;
      if (n === 0) return;
    }
    throw new Error(`deployment: not quiet after ${maxRounds} rounds`);
  }

  /** Every host's log lines, prefixed by its handler file (for failure messages). */
  logs(): string {
    return [...this.hosts.values()].flatMap((h) => h.logs().map((l) => `[${h.opts.name}] ${l}`)).join('\n');
  }

  /** Stop the hosts and drivers (the emulators are the run's: global-setup.ts stops them). */
  async stop(): Promise<void> {
    await this.stepFunctions.stop().catch(() => undefined);
    await Promise.all([...this.hosts.values()].map((h) => h.stop()));
    await this.ssmFaults.stop();
    for (const c of [...Object.values(this.aws), ...this.sesClients.values()]) (c as { destroy?: () => void }).destroy?.();
  }

  private async sendToArn(queueArn: string, body: unknown): Promise<void> {
    const name = queueArn.split(':').at(-1)!;
    const url = `${this.moto.endpoint}/${MOTO_ACCOUNT}/${name}`;
    await this.aws.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(body) }));
  }
}

const clientConfig = (endpoint: string, region: string) => ({ endpoint, region, credentials: CREDENTIALS });

/** Start the emulators, create the resources, store the secrets; hosts start on first use. */
export async function startDeployment(opts: DeploymentOptions): Promise<Deployment> {
  const { assembly } = opts;
  const region = opts.region ?? REGION;
  const timings: Record<string, number> = {};
  let t = Date.now();
  const lap = (k: string) => { timings[k] = Date.now() - t; t = Date.now(); };
  // The run's emulators (global-setup.ts); moto emptied of earlier stages' state. DynamoDB Local
  // needs no emptying: every deployment's table has a fresh name.
  const moto = new Moto(opts.emulators.moto);
  const dynamodb = { endpoint: opts.emulators.dynamodb };
  await moto.reset();
  lap('reset');
  let ssmFaults: SsmFaults | undefined;
  try {
    ssmFaults = await startSsmFaults(moto.endpoint);
    const aws: AwsClients = (() => {
      const ddb = new DynamoDBClient(clientConfig(dynamodb.endpoint, region));
      return {
        ddb, doc: DynamoDBDocumentClient.from(ddb), streams: new DynamoDBStreamsClient(clientConfig(dynamodb.endpoint, region)),
        sqs: new SQSClient(clientConfig(moto.endpoint, region)), ssm: new SSMClient(clientConfig(moto.endpoint, region)), ses: new SESClient(clientConfig(moto.endpoint, SES_REGION)),
        s3: new S3Client({ ...clientConfig(moto.endpoint, region), forcePathStyle: true }), sfn: new SFNClient(clientConfig(moto.endpoint, region)),
      };
    })();
    const phys = await createResources(assembly.template, aws, { region, account: MOTO_ACCOUNT, stackName: STACK_NAME });
    lap('resources');

    // Secrets and settings where the functions read them (every CONFLUO_SECRETS_PATH in the template).
    const paths = new Set(assembly.functions().map((f) => f.environment.CONFLUO_SECRETS_PATH).filter((p): p is string => typeof p === 'string'));
    for (const path of paths) {
      for (const [name, value] of Object.entries(deploymentSettings())) {
        await aws.ssm.send(new PutParameterCommand({ Name: `${path}${name}`, Value: value, Type: SECRET_NAMES.has(name) ? 'SecureString' : 'String', Overwrite: true }));
      }
    }
    // The From address of every function that sends e-mail is a verified SES identity in the
    // e-mail channel's SES region (README: EMAIL_SES_REGION, default the topic's region).
    const senders = new Set(assembly.functions().map((f) => f.environment.EMAIL_FROM).filter((v): v is string => typeof v === 'string'));
    for (const from of senders) await aws.ses.send(new VerifyEmailIdentityCommand({ EmailAddress: addressOf(from) }));

    lap('secrets');
    const tasks = new Map<string, LambdaTask>();
    for (const fn of assembly.functions()) tasks.set(fn.logicalId, await prepareLambdaTask(opts.workDir, fn));
    lap('tasks');
    if (process.env.DEPLOY_TEST_TIMINGS) console.log('deployment start', timings);
    const clock = new VirtualClock();
    const userPool = await TestUserPool.create(() => clock.now());
    return new Deployment(assembly, phys, aws, moto, dynamodb, ssmFaults, userPool, clock, tasks, opts);
  } catch (e) {
    await ssmFaults?.stop();
    throw e;
  }
}

/** `Acme Support <support@acme.example>` → `support@acme.example`. */
export function addressOf(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
}
