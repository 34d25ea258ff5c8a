// @ts-check
/**
 * Mutation testing of the boundary modules (issue 17): `npm run test:mutation`.
 *
 * What is mutated is named here by function (or by the code between two markers), not by line
 * numbers, so the scope follows the code as it moves; a name that no longer exists stops the run
 * instead of silently mutating less. Each entry says why it is a boundary; what is left out of a
 * boundary file is left out for the reason given next to it (docs/mutation.md lists the
 * survivors judged equivalent).
 *
 * The tests are the unit tests of those modules only (vitest.mutation.config.ts): no DynamoDB
 * Local, no local runtime, no browser — every mutant reruns the tests that cover it.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** `file:startLine:startCol-endLine:endCol` (Stryker's mutate range; lines 1-based, columns 0-based). */
function rangeOf(file, sf, node) {
  const start = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  const end = sf.getLineAndCharacterOfPosition(node.getEnd());
  return `${file}:${start.line + 1}:${start.character}-${end.line + 1}:${end.character}`;
}

function parse(file) {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
}

function nameOf(node) {
  if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isPropertyAssignment(node) || ts.isVariableDeclaration(node)) && node.name) {
    return node.name.getText();
  }
  return undefined;
}

/** The declarations (functions, methods, `const x =`, object properties) named `names` in `file`. */
function declarations(file, ...names) {
  const sf = parse(file);
  const found = new Map();
  const visit = (node) => {
    const name = nameOf(node);
    if (name !== undefined && names.includes(name) && !found.has(name)) {
      // A `const` declaration is mutated with its statement; a function or method whole.
      found.set(name, ts.isVariableDeclaration(node) ? node.parent.parent : node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  const missing = names.filter((n) => !found.has(n));
  if (missing.length) throw new Error(`stryker.config.mjs: ${file} has no ${missing.join(', ')} (renamed? update the mutation scope)`);
  return names.map((n) => rangeOf(file, sf, found.get(n)));
}

/** The lines from the first one containing `from` to the first one after it containing `to`. */
function between(file, from, to) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.includes(from));
  const end = start < 0 ? -1 : lines.findIndex((l, i) => i >= start && l.includes(to));
  if (start < 0 || end < 0) throw new Error(`stryker.config.mjs: ${file} has no lines from "${from}" to "${to}" (update the mutation scope)`);
  return [`${file}:${start + 1}-${end + 1}`];
}

/** Every `role: …` of a `route({ … })` in `file`: the route roles, and nothing else of the handlers. */
function routeRoles(file) {
  const sf = parse(file);
  const out = [];
  const visit = (node) => {
    if (ts.isPropertyAssignment(node) && node.name.getText() === 'role' && ts.isObjectLiteralExpression(node.parent)
      && ts.isCallExpression(node.parent.parent) && node.parent.parent.expression.getText() === 'route') {
      out.push(rangeOf(file, sf, node.initializer));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  if (out.length === 0) throw new Error(`stryker.config.mjs: ${file} declares no route roles`);
  return out;
}

const ROUTE_FILES = ['routes', 'customer-routes', 'kpi-routes', 'reply-routes', 'sla-routes', 'survey-routes', 'template-routes', 'triage-routes', 'webchat-routes']
  .map((f) => `functions/handlers/agent-api/${f}.ts`);

/**
 * The boundary modules, in groups that run one at a time (`STRYKER_GROUP=<name>`; all in turn by
 * `npm run test:mutation`, scripts/mutation.ts) so one group can be re-run alone
 * (`npm run test:mutation -- redact`); each group writes its report under
 * reports/mutation/<group>/, and the score script reads them all.
 */
export const GROUPS = {
  channels: [
  // Channel verification: every inbound credential check, the constant-time comparison they
  // share, and the SNS signature, certificate, host and timestamp checks of e-mail. Parsing and
  // outbound request building in the same files are not a trust boundary and are left out.
  ...declarations('functions/channels/common.ts', 'safeEqual', 'hmacHex'),
  ...declarations('functions/channels/meta.ts', 'metaSignature', 'verifyMetaSignature', 'metaHandshake'),
  ...between('functions/channels/telegram/ingress.ts', 'admit(req: RawRequest', "'secret token mismatch'"),
  ...declarations('functions/channels/vk/ingress.ts', 'checkCredentials'),
  ...declarations('functions/channels/viber/ingress.ts', 'checkSignature'),
  ...between('functions/channels/twilio/ingress.ts', 'admit(req: RawRequest', "'signature mismatch'"),
  ...declarations('functions/channels/twilio/form.ts', 'signedString', 'twilioSignature', 'urlForms'),
  ...declarations('functions/channels/webchat/ingress.ts', 'bearerToken', 'verifyToken', 'normaliseOrigin', 'checkOrigin'),
  ...between('functions/channels/webchat/ingress.ts', 'const secret = secrets.WEBCHAT_SECRET', 'await verifyToken('),
  ],
  sns: [
  // The whole of sns.ts but its error class and types (no behaviour to mutate).
  ...declarations('functions/channels/email/sns.ts', 'snsRegionOf', 'snsHostFor', 'signingCertNames', 'stringToSign', 'isSnsUrl',
    'trustAnchors', 'trustRoots', 'remember', 'validAt', 'checkValidity', 'issuedBy', 'amazonIssuerUrl', 'checkChain', 'checkNamesSns',
    'certFileName', 'certificateFor', 'verifySnsMessage', 'REQUIRED', 'SIGNED_KEYS', 'MAX_TIMESTAMP_SKEW_MS'),
  ],
  'agent-api': [

  // The Agent API router (who the caller is, the role check, request validation) and the role of
  // every route. Left out: openApiDocument (the generated documentation, not access control)
  // and the route handlers themselves (they run against DynamoDB; tests/e2e covers them).
  ...declarations('functions/handlers/agent-api/router.ts', 'ROLES', 'rank', 'groupsOf', 'roleOfGroups', 'callerOf', 'issues', 'parseWith',
    'toResult', 'errorToResult', 'declaredParams', 'decodeJsonBody', 'buildRouter'),
  ...ROUTE_FILES.flatMap(routeRoles),
  ],
  tickets: [

  // Ticket transitions: the transition table and the planned change of a ticket. Left out of
  // triage.ts: the inbox filters (awaiting, slaRisk, matchesInbox, saved views) — what a list
  // shows, not what may change.
  'functions/domain/ticket.ts',
  ...declarations('functions/domain/triage.ts', 'normTags', 'same', 'planTicketChange', 'allowedHint'),
  ],
  survey: [

  // Survey decisions: scores, what a reply or a link answer means, what each workflow step does,
  // and the signed link token. Left out of survey.ts: the survey texts and their rendering and
  // template validation (wording, not decisions), the buttons offered, the reading of the
  // survey settings (config), and surveyView (the API's read model).
  ...declarations('functions/domain/survey.ts', 'inRange', 'isLowScore', 'surveyOf', 'scheduleSurvey', 'needsSurvey',
    'scoreFromPayload', 'WORDS', 'scoreFromText', 'parseScore', 'classifyReply', 'commentOpen', 'classifyLinkAnswer', 'decideSurveyStep'),
  ],
  'survey-token': [
  // The signed score links of survey e-mails.
  'functions/domain/survey-token.ts',
  ],
  identity: [

  // Identity linking: what a sender's identity keeps, which attributes count as verified, and
  // when two customers are linked. Left out: lookupOf (the Agent API's search box) and
  // displayNameOf (a label).
  ...declarations('functions/domain/identity.ts', 'identityKey', 'mergeIdentity', 'senderAuthenticated', 'normaliseEmail', 'normalisePhone',
    'attributeKey', 'sameAttribute', 'verifiedAttributes', 'newlyVerified', 'claimsOf', 'linkReasonOf', 'olderFirst', 'blocked', 'decideLink'),
  ],
  redact: [

  // Redaction of logs and exports: all of it.
  'functions/domain/redact.ts',
  ],
};

const group = process.env.STRYKER_GROUP;
if (group !== undefined && !(group in GROUPS)) throw new Error(`stryker.config.mjs: STRYKER_GROUP must be one of ${Object.keys(GROUPS).join(', ')}`);
const dir = `reports/mutation/${group ?? 'all'}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // related: a mutant runs only the test files that import its module (its covering tests when
  // known; all of those for a mutant evaluated at import time, e.g. a constant table).
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  // Two cores shared with other work: one test runner at a time.
  concurrency: 1,
  coverageAnalysis: 'perTest',
  mutate: group === undefined ? Object.values(GROUPS).flat() : GROUPS[group],
  // Only what the tests import is copied to the sandbox (not web/, cdk.out, .confluo, …).
  ignorePatterns: ['/web', '/cdk.out', '/.confluo', '/reports', '/coverage', '/test-results', '/bench', '/docs', '/.stryker-tmp'],
  // No incremental mode: it reuses the result of a mutant evaluated at import time (a constant
  // table such as redact.ts's key sets) even after the tests that would kill it were added, since
  // no single test covers such a mutant. Every run is a full run of its group.
  incremental: false,
  reporters: ['progress', 'clear-text', 'json', 'html'],
  jsonReporter: { fileName: `${dir}/mutation.json` },
  htmlReporter: { fileName: `${dir}/mutation.html` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: false },
  thresholds: { high: 90, low: 80, break: null },
  timeoutMS: 20_000,
  tempDirName: `.stryker-tmp/${group ?? 'all'}`,
  cleanTempDir: true,
};
