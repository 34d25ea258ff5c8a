/**
 * The credentials of every bundled function: the execution role's keys that Lambda puts in the
 * environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`;
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
 *
 * Each AWS SDK client's runtime config imports `defaultProvider` from
 * `@aws-sdk/credential-provider-node`: the whole default chain — SSO, shared ini files, web
 * identity, process, container and instance metadata, each with its nested STS / SSO-OIDC /
 * sign-in client. In Lambda the chain's first link, the environment, always answers (the chain
 * skips it only when `AWS_PROFILE` is set, which no Confluo function sets), so the rest is bytes
 * every cold start parses and never runs: ~140 KB of the ingest bundle. `confluoBundling`
 * (lib/confluo-function.ts) aliases that package to this module at bundle time, so the chain
 * becomes its own first link. Tests and the local runtime import the SDK unbundled and keep the
 * full chain.
 *
 * A function without the variables fails its first AWS call with the SDK's own
 * `CredentialsProviderError` ("Unable to find environment variable credentials."), as the chain
 * would after trying every other source.
 */
export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';
