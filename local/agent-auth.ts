/**
 * Local stand-in for the API Gateway JWT authoriser: HS256 tokens signed with AGENT_JWT_SECRET,
 * minted by `POST /dev/token`. In AWS, Cognito issues the tokens and API Gateway verifies them.
 * A dev token carries its role as Cognito does, in `cognito:groups`: the Agent API reads nothing
 * else (functions/handlers/agent-api/router.ts `callerOf`).
 */
import { SignJWT, jwtVerify } from 'jose';

const ISSUER = 'confluo-local';
const AUDIENCE = 'confluo-agent-api';

export async function mintAgentToken(secret: string, agent: string, role: string, nowMs: number): Promise<string> {
  return new SignJWT({ 'cognito:groups': [role] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(agent).setIssuer(ISSUER).setAudience(AUDIENCE)
    .setIssuedAt(Math.floor(nowMs / 1000)).setExpirationTime(Math.floor(nowMs / 1000) + 12 * 3600)
    .sign(new TextEncoder().encode(secret));
}

/** Claims of a valid `Authorization: Bearer …` token, or null. Expiry is checked on real time. */
export async function verifyAgentToken(secret: string, authorization: string | undefined): Promise<Record<string, unknown> | null> {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m) return null;
  try {
    const { payload } = await jwtVerify(m[1]!, new TextEncoder().encode(secret), { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
    return payload as Record<string, unknown>;
  } catch {
    return null;
  }
}
