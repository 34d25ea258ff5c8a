/**
 * The agents' sign-in, played: ID tokens shaped like the ones the Confluo user pool (Cognito)
 * issues to the web inbox, signed with a key pair made for the run, and the verifier the HTTP
 * APIs' JWT authorizer uses with them.
 *
 * A Cognito ID token (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html)
 * is RS256 with a `kid` from the pool's JWKS, `iss` = `https://cognito-idp.<region>.amazonaws.com/<pool id>`,
 * `aud` = the app client id, `token_use: "id"`, `cognito:groups` as a JSON array, `cognito:username`,
 * `auth_time`, `iat`, `exp`. API Gateway's JWT authorizer checks the signature against the
 * issuer's JWKS, `iss`, `aud` (or `client_id`), `exp`, `nbf` and `iat`
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html).
 *
 * Out of scope, and not what this proves: real Cognito — its signing keys and JWKS endpoint, the
 * hosted UI, token refresh, the group membership an administrator gives. The verifier checks the
 * signature with the run's own key, then issuer, audience and times exactly as the authorizer
 * does, so a token for the wrong app client or pool is refused as it would be.
 */
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import type { JwtVerifier } from '../../../local/http-api.js';

export interface IdTokenClaims {
  readonly sub: string;
  /** Cognito groups (`agent`, `supervisor`, `admin`); the inbox's roles. */
  readonly groups: readonly string[];
  readonly issuer: string;
  readonly audience: string;
  readonly email?: string;
  readonly name?: string;
}

export class TestUserPool {
  private constructor(private readonly privateKey: CryptoKey, private readonly jwks: ReturnType<typeof createLocalJWKSet>, readonly kid: string, private readonly now: () => number) {}

  /** A pool with a fresh RS256 key pair in its JWKS; `now` is the gateway's clock (tokens live an hour of it). */
  static async create(now: () => number): Promise<TestUserPool> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = randomUUID();
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] });
    return new TestUserPool(privateKey, jwks, kid, now);
  }

  /** An ID token as Cognito issues it after sign-in (valid for an hour from `now`). */
  idToken(c: IdTokenClaims): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    return new SignJWT({
      'cognito:groups': [...c.groups], 'cognito:username': c.sub, token_use: 'id', auth_time: iat, event_id: randomUUID(),
      ...(c.email ? { email: c.email, email_verified: true } : {}), ...(c.name ? { name: c.name } : {}),
    })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid })
      .setSubject(c.sub).setIssuer(c.issuer).setAudience(c.audience)
      .setIssuedAt(iat).setExpirationTime(iat + 3600)
      .sign(this.privateKey);
  }

  /** The authorizer's check: signature by the JWKS key the `kid` names, `iss`, `aud`, times; the claims, or null (→ 401). */
  readonly verify: JwtVerifier = async (token, expected) => {
    try {
      const { payload } = await jwtVerify(token, this.jwks, {
        algorithms: ['RS256'], issuer: expected.issuer, audience: [...expected.audience], currentDate: new Date(this.now()),
      });
      return payload as JWTPayload & Record<string, unknown>;
    } catch {
      return null;
    }
  };
}
