import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Provider, { type Adapter, type AdapterPayload, type KoaContext } from 'oidc-provider';

/**
 * A real OpenID Provider (panva's certified oidc-provider) on 127.0.0.1, configured like the authorization servers
 * Keydesk talks to: PKCE required (S256), refresh tokens with rotation, an RFC 7009 revocation endpoint, RFC 9207 `iss`
 * in authorization responses, and native clients whose loopback redirect URIs accept any port (RFC 8252 §7.3).
 * Its login and consent pages are oidc-provider's own development interactions (any login name, any password),
 * which a test browser (Chromium or `oidc-browser.ts`) submits for real.
 *
 * What the peer adds for tests, in front of the real server and without changing its protocol:
 * - it counts token requests by grant type (`tokenRequests`), and can hold them back: for a fixed time
 *   (`control.tokenLatencyMs`, for the dev script) or until the test lets them go (`holdTokenRequests()`, which also
 *   says when a request has arrived, so a race test can act while a refresh is at the provider);
 * - it remembers every token value it issued (`issuedTokens()`), for canary checks;
 * - `revokeAllGrants()` withdraws every grant as an administrator would (the refresh token then fails with
 *   `invalid_grant`);
 * - `control.refreshError` answers the next refresh requests with a provider-specific error the server itself never
 *   produces (Google's `invalid_rapt`), after the real server processed the request.
 * Test support only: never imported by the app.
 */

/** The generic native client (public, PKCE, loopback redirect on any port). */
export const NATIVE_CLIENT_ID = 'keydesk-native';
/** A confidential client standing in for a Google "Desktop app" OAuth client (client id + secret). */
export const GOOGLE_CLIENT_ID = 'keydesk-google-test.apps.example';
export const GOOGLE_CLIENT_SECRET = 'peer-google-client-secret-0d6f2c1a';
/** A public client standing in for an Entra app registration (GUID id, `http://localhost` redirect, form_post). */
export const MICROSOFT_CLIENT_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
export const MICROSOFT_TENANT_ID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

/** Scopes the peer grants besides the OpenID ones (Google- and Graph-like names, so the real presets can ask for them). */
export const EXTRA_SCOPES = [
  'api.read',
  'api.write',
  'https://www.googleapis.com/auth/admin.directory.user.readonly',
  'https://www.googleapis.com/auth/admin.directory.user',
  'https://www.googleapis.com/auth/admin.directory.domain.readonly',
  'https://www.googleapis.com/auth/gmail.settings.basic',
  'https://graph.microsoft.com/User.Read',
  'https://graph.microsoft.com/User.ReadWrite.All',
  'https://graph.microsoft.com/Directory.Read.All',
  'https://graph.microsoft.com/MailboxSettings.ReadWrite'
];

export interface TokenRequest {
  grantType: string;
  clientId: string | null;
  status: number;
  error: string | null;
}

export interface OidcPeerControl {
  /** Held before the token endpoint runs (to make concurrent refreshes overlap). */
  tokenLatencyMs: number;
  /** Replaces the answer to the next `count` refresh requests (Google's invalid_rapt, a 500…), with `headers` added. */
  refreshError: { status: number; body: Record<string, string>; count: number; headers?: Record<string, string> } | null;
  /** Rewrites successful token answers (after the real server produced them): a tampering or replaying middlebox. */
  rewriteTokenAnswer: ((grantType: string, body: Record<string, unknown>) => Record<string, unknown>) | null;
  /** Lets `skip` revocation requests through, then answers the next `count` with an error, without revoking. */
  revocationError: { status: number; body: Record<string, string>; count: number; skip?: number } | null;
}

/** Token requests held at the peer's door (arrived, not yet processed) until `release()`. */
export interface TokenRequestHold {
  /** Resolves once `n` token requests (default 1) have arrived and are held. */
  arrived(n?: number): Promise<void>;
  /** Token requests that arrived (and were held) so far. */
  count(): number;
  /** Lets the held requests through, in arrival order, and stops holding. */
  release(): void;
}

export interface OidcPeer {
  /** The issuer identifier, e.g. http://127.0.0.1:41234 (https:// with `tls`). */
  issuer: string;
  port: number;
  discoveryUrl: string;
  authorizationUrl: string;
  tokenUrl: string;
  revocationUrl: string;
  control: OidcPeerControl;
  tokenRequests: TokenRequest[];
  /** Refresh-token grant requests so far. */
  refreshCount(): number;
  /** Every access, refresh token and authorization code this peer issued (for canary checks). */
  issuedTokens(): string[];
  /** Every refresh token currently valid at the peer. */
  liveRefreshTokens(): string[];
  /** Withdraws every grant (and so every token), as an administrator revoking the app's access would. */
  revokeAllGrants(): Promise<number>;
  /** Holds every token request from now on until the hold is released (one hold at a time). */
  holdTokenRequests(): TokenRequestHold;
  close(): Promise<void>;
}

export interface OidcPeerOptions {
  /** Serve HTTPS with this certificate (MSAL refuses plain-http authorities). */
  tls?: { key: string; cert: string };
  /** Access token lifetime in seconds (default 3600). */
  accessTokenTtl?: number;
  /** Refresh token lifetime in seconds (default 14 days). */
  refreshTokenTtl?: number;
  /** Bind this port (default: a free one). The dev script uses it so the printed URLs stay stable. */
  port?: number;
}

const TOKEN_MODELS = new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode']);

/** oidc-provider's storage, in memory, per peer, with the hooks the tests need. */
class PeerStore {
  readonly items = new Map<string, AdapterPayload>();
  readonly grants = new Map<string, Set<string>>();
  readonly issued = new Set<string>();

  adapter(model: string): Adapter {
    const key = (id: string) => `${model}:${id}`;
    const { items, grants, issued } = this;
    const revoke = (grantId: string) => this.revokeGrant(grantId);
    return {
      async upsert(id, payload) {
        items.set(key(id), payload);
        if (TOKEN_MODELS.has(model)) issued.add(id);
        if (payload.grantId) {
          let g = grants.get(payload.grantId);
          if (!g) grants.set(payload.grantId, (g = new Set()));
          g.add(key(id));
        }
        if (model === 'Session' && payload.uid) items.set(`sessionUid:${payload.uid}`, { id });
      },
      async find(id) {
        return items.get(key(id));
      },
      async findByUid(uid) {
        const ref = items.get(`sessionUid:${uid}`);
        return typeof ref?.id === 'string' ? items.get(key(ref.id)) : undefined;
      },
      async findByUserCode() {
        return undefined;
      },
      async consume(id) {
        const p = items.get(key(id));
        if (p) p.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        items.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        revoke(grantId);
      }
    };
  }

  revokeGrant(grantId: string): void {
    for (const k of this.grants.get(grantId) ?? []) this.items.delete(k);
    this.grants.delete(grantId);
    this.items.delete(`Grant:${grantId}`);
  }

  liveRefreshTokens(): string[] {
    const now = Math.floor(Date.now() / 1000);
    return [...this.items.entries()]
      .filter(([k, p]) => k.startsWith('RefreshToken:') && !p.consumed && (typeof p.exp !== 'number' || p.exp > now))
      .map(([k]) => k.slice('RefreshToken:'.length));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The state behind `holdTokenRequests()`; `enter` is the middleware's side (resolves when the test releases). */
function newHold(onRelease: () => void): TokenRequestHold & { enter(): Promise<void> } {
  const held: (() => void)[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  let arrivals = 0;
  let released = false;
  return {
    enter() {
      if (released) return Promise.resolve();
      arrivals++;
      const due = waiters.filter((w) => w.n <= arrivals);
      waiters = waiters.filter((w) => w.n > arrivals);
      for (const w of due) w.resolve();
      return new Promise((resolve) => held.push(resolve));
    },
    arrived(n = 1) {
      if (arrivals >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    count: () => arrivals,
    release() {
      if (released) return;
      released = true;
      onRelease();
      for (const go of held.splice(0)) go();
    }
  };
}

export async function startOidcPeer(opts: OidcPeerOptions = {}): Promise<OidcPeer> {
  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }) : createHttpServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const store = new PeerStore();
  const control: OidcPeerControl = { tokenLatencyMs: 0, refreshError: null, rewriteTokenAnswer: null, revocationError: null };
  const tokenRequests: TokenRequest[] = [];
  let hold: ReturnType<typeof newHold> | null = null;
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  const nativeClient = {
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code']
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        ...nativeClient,
        client_id: NATIVE_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback']
      },
      {
        ...nativeClient,
        client_id: GOOGLE_CLIENT_ID,
        client_secret: GOOGLE_CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: ['http://127.0.0.1/']
      },
      { ...nativeClient, client_id: MICROSOFT_CLIENT_ID, token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost/'] }
    ],
    adapter: (model: string) => store.adapter(model),
    jwks: { keys: [{ ...signingKey, use: 'sig', kid: 'peer-1', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true, allowedPolicy: async () => true },
      introspection: { enabled: false }
    },
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', 'email', 'profile', ...EXTRA_SCOPES],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    // Put the requested claims in the ID token too (Google and Entra do), not only in userinfo.
    conformIdTokenClaims: false,
    // A refresh token for every code grant of a client allowed to refresh, with or without offline_access (as
    // Entra and Google behave for these clients); rotated at every use.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: opts.accessTokenTtl ?? 3600,
      RefreshToken: opts.refreshTokenTtl ?? 14 * 24 * 3600,
      AuthorizationCode: 120,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: opts.refreshTokenTtl ?? 14 * 24 * 3600
    },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({
        sub,
        email: `${sub}@peer.example`,
        email_verified: true,
        name: sub,
        preferred_username: `${sub}@peer.example`
      })
    }),
    renderError: async (ctx: KoaContext, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><title>oidc-provider error</title><h1>${String(out.error).replace(/[<>&"]/g, '')}</h1>`;
    },
    clientBasedCORS: () => false
  });

  provider.use(async (ctx, next) => {
    // Entra publishes each tenant's configuration at {authority}/v2.0/.well-known/openid-configuration, which is where
    // MSAL reads it: serve the provider's own discovery document there too.
    if (ctx.method === 'GET' && /^\/[^/]+\/v2\.0\/\.well-known\/openid-configuration$/.test(ctx.path))
      ctx.path = '/.well-known/openid-configuration';
    if (ctx.method === 'GET' && ctx.path === '/auth') {
      // Entra grants offline_access without prompt=consent (OpenID Connect lets a server require it; oidc-provider
      // does). For the Entra stand-in client, ask for consent on its behalf so it gets refresh tokens like Entra's.
      const q = new URLSearchParams(ctx.querystring);
      if (q.get('client_id') === MICROSOFT_CLIENT_ID && /(^| )offline_access( |$)/.test(q.get('scope') ?? '') && !q.has('prompt')) {
        q.set('prompt', 'consent');
        ctx.querystring = q.toString();
      }
    }
    const revocationFault = control.revocationError;
    if (ctx.method === 'POST' && ctx.path === '/token/revocation' && revocationFault && revocationFault.count > 0) {
      if ((revocationFault.skip ?? 0) > 0) {
        revocationFault.skip = (revocationFault.skip ?? 0) - 1;
      } else {
        revocationFault.count--;
        ctx.status = revocationFault.status;
        ctx.type = 'json';
        ctx.body = revocationFault.body;
        return;
      }
    }
    const isToken = ctx.method === 'POST' && ctx.path === '/token';
    if (isToken && hold) await hold.enter();
    if (isToken && control.tokenLatencyMs > 0) await sleep(control.tokenLatencyMs);
    await next();
    if (!isToken) return;
    const params = ctx.oidc?.params ?? {};
    const grantType = typeof params.grant_type === 'string' ? params.grant_type : 'unknown';
    const injected = control.refreshError;
    if (grantType === 'refresh_token' && injected && injected.count > 0) {
      injected.count--;
      ctx.status = injected.status;
      ctx.type = 'json';
      ctx.body = injected.body;
      for (const [k, v] of Object.entries(injected.headers ?? {})) ctx.set(k, v);
    } else if (control.rewriteTokenAnswer && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      ctx.body = control.rewriteTokenAnswer(grantType, ctx.body as Record<string, unknown>);
    }
    const body = ctx.body as { error?: unknown } | null;
    tokenRequests.push({
      grantType,
      clientId: typeof params.client_id === 'string' ? params.client_id : null,
      status: ctx.status,
      error: body && typeof body === 'object' && typeof body.error === 'string' ? body.error : null
    });
  });

  server.on('request', provider.callback());

  return {
    issuer,
    port,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    authorizationUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    revocationUrl: `${issuer}/token/revocation`,
    control,
    tokenRequests,
    refreshCount: () => tokenRequests.filter((r) => r.grantType === 'refresh_token').length,
    issuedTokens: () => [...store.issued],
    liveRefreshTokens: () => store.liveRefreshTokens(),
    async revokeAllGrants() {
      const ids = [...store.grants.keys()];
      for (const g of ids) store.revokeGrant(g);
      return ids.length;
    },
    holdTokenRequests() {
      if (hold) throw new Error('The peer is already holding token requests: release that hold first.');
      const h = newHold(() => {
        if (hold === h) hold = null;
      });
      hold = h;
      return h;
    },
    async close() {
      hold?.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  };
}
