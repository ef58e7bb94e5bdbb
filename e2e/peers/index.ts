// Helpers that start several loopback peers together or link them (test support only; the peers themselves live in
// their own modules and belong to the provider and OAuth engineers).
import type { GooglePeer, IssuedToken } from './google.ts';
import { GOOGLE_CLIENT_ID, type OidcPeer } from './oidc.ts';

/**
 * Google's APIs accept the access tokens Google's own authorization server issued. In the tests two peers play
 * Google: the OpenID Provider (sign-in, consent, token endpoint, with the Google client registered) and the Google
 * API peer (Directory, Gmail). This makes the API peer accept the tokens the OpenID Provider issued, acting as
 * `subject` with `scopes`, as the real pair does. Returns the undo function.
 */
export function googleApiAcceptsOidcTokens(g: GooglePeer, oidc: OidcPeer, as: { subject: string; scopes: readonly string[] }): () => void {
  const tokens = g.tokens;
  const original = tokens.get.bind(tokens);
  tokens.get = (token: string): IssuedToken | undefined =>
    original(token) ??
    (oidc.issuedTokens().includes(token)
      ? { principal: GOOGLE_CLIENT_ID, subject: as.subject, scopes: new Set(as.scopes), expiresAt: Math.floor(Date.now() / 1000) + 3600 }
      : undefined);
  return () => {
    tokens.get = original;
  };
}
