#!/usr/bin/env node
/**
 * Starts the local OpenID Provider the OAuth tests use (oidc-provider on 127.0.0.1) and prints what to give Keydesk.
 * For trying Keydesk's OAuth credentials without any real provider; see docs/oauth.md.
 *
 *   node e2e/peers/oidc-dev.ts [--port 4000] [--access-token-ttl SECONDS] [--token-latency-ms MS] [--json]
 *
 * While it runs, type a command and Enter:
 *   revoke-all   withdraw every grant (as an administrator revoking the app would): the next refresh fails
 *   stats        token requests so far, by grant type
 *   quit         stop
 * Development and tests only: any login name and any password are accepted.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { NATIVE_CLIENT_ID, startOidcPeer } from './oidc.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'access-token-ttl': { type: 'string' },
    'token-latency-ms': { type: 'string' },
    json: { type: 'boolean', default: false }
  }
});

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,6}$/.test(v)) {
    process.stderr.write(`--${name} must be a whole number\n`);
    process.exit(2);
  }
  return Number(v);
}

const port = int('port', values.port);
const accessTokenTtl = int('access-token-ttl', values['access-token-ttl']);
const peer = await startOidcPeer({ ...(port !== undefined ? { port } : {}), ...(accessTokenTtl !== undefined ? { accessTokenTtl } : {}) });
peer.control.tokenLatencyMs = int('token-latency-ms', values['token-latency-ms']) ?? 0;

const info = {
  issuer: peer.issuer,
  discovery_url: peer.discoveryUrl,
  authorization_url: peer.authorizationUrl,
  token_url: peer.tokenUrl,
  revocation_url: peer.revocationUrl,
  client_id: NATIVE_CLIENT_ID,
  scopes: 'openid email offline_access api.read'
};

if (values.json) {
  process.stdout.write(`${JSON.stringify(info)}\n`);
} else {
  process.stdout.write(
    [
      `Local OpenID Provider (oidc-provider) at ${peer.issuer}`,
      '',
      'Create and connect a Keydesk credential for it:',
      '',
      `  keydesk connect "Local IdP" --provider oauth --mode authorization_code \\`,
      `    --field discovery_url=${info.discovery_url} \\`,
      `    --field client_id=${info.client_id} --field scopes="${info.scopes}"`,
      '',
      'Sign in with any login name and any password, then press Continue.',
      'Commands: revoke-all | stats | quit',
      ''
    ].join('\n')
  );
}

const stop = async () => {
  await peer.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'revoke-all') {
    void peer.revokeAllGrants().then((n) => process.stdout.write(`${JSON.stringify({ revoked_grants: n })}\n`));
  } else if (cmd === 'stats') {
    const by: Record<string, number> = {};
    for (const r of peer.tokenRequests) by[r.grantType] = (by[r.grantType] ?? 0) + 1;
    process.stdout.write(`${JSON.stringify({ token_requests: by })}\n`);
  } else if (cmd === 'quit') {
    void stop();
  } else if (cmd) {
    process.stdout.write('commands: revoke-all | stats | quit\n');
  }
});
// With stdin closed (e.g. started in the background), keep serving until a signal stops it.
rl.on('close', () => undefined);
