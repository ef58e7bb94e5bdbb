import { randomBytes } from 'node:crypto';
import { bearer, startPeer, type Peer, type PeerOptions } from './harness.ts';

/**
 * A loopback Hostinger VPS API (test support only). It speaks the calls Keydesk makes, as developers.hostinger.com
 * does: `GET /api/vps/v1/virtual-machines` with `Authorization: Bearer <token>` → 200 and a JSON array of virtual
 * machines; 401 `{"message":"Unauthenticated.","correlation_id":…}` for a token it does not know (or a revoked or
 * expired one); 403 for a token without VPS access. Harness faults apply: wrong_secret, expired and revoked answer 401
 * whatever the token; rate_limited, server_error, hang and malformed come from the harness.
 */

export interface HostingerVm {
  id: number;
  hostname: string;
  state: 'running' | 'stopped' | 'initial';
  plan: string;
  ipv4: { id: number; address: string; ptr: string | null }[];
}

export interface HostingerPeerState {
  /** Adds a token the API accepts, with the VMs it sees (default one running VM). */
  addToken(opts?: { token?: string; vms?: HostingerVm[]; vpsAccess?: boolean }): string;
  revoke(token: string): void;
  /** When set, error bodies quote the token they were sent (a misbehaving API; for the canary tests). */
  echoSecrets: boolean;
  /** How an echoed token is written (default: as sent) — e.g. UTF-16, base64 inside a header dump (canary tests). */
  echoAs: ((token: string) => string) | null;
}

export interface HostingerPeer extends Peer {
  hostinger: HostingerPeerState;
}

export function sampleVm(id = 1268054): HostingerVm {
  return {
    id,
    hostname: `srv${id}.hstgr.cloud`,
    state: 'running',
    plan: 'KVM 2',
    ipv4: [{ id: id + 1, address: '192.0.2.10', ptr: null }]
  };
}

function correlationId(): string {
  return randomBytes(8).toString('hex');
}

export async function startHostingerPeer(opts: PeerOptions = {}): Promise<HostingerPeer> {
  const tokens = new Map<string, { vms: HostingerVm[]; vpsAccess: boolean }>();
  const revoked = new Set<string>();
  let actionSeq = 8_000_000;
  const state: HostingerPeerState = {
    echoSecrets: false,
    echoAs: null,
    addToken(o = {}) {
      const token = o.token ?? `hst_${randomBytes(20).toString('hex')}`;
      tokens.set(token, { vms: o.vms ?? [sampleVm()], vpsAccess: o.vpsAccess ?? true });
      revoked.delete(token);
      return token;
    },
    revoke(token) {
      revoked.add(token);
    }
  };

  const peer = await startPeer((req, res, ctx) => {
    const given = bearer(req);
    const unauthenticated = (why: string) =>
      ctx.json(res, 401, {
        message:
          state.echoSecrets && given ? `Unauthenticated: token ${state.echoAs ? state.echoAs(given) : given} ${why}` : 'Unauthenticated.',
        correlation_id: correlationId()
      });

    // One virtual machine, and its power actions (issue 5): GET …/{id}, POST …/{id}/stop, POST …/{id}/start. The VM's
    // state changes, so a revert is checked against what the action did; every call is authenticated like the list.
    const vmPath = /^\/api\/vps\/v1\/virtual-machines\/(\d{1,12})(?:\/(stop|start))?$/.exec(ctx.url.pathname);
    if (vmPath) {
      if (ctx.control.fault === 'wrong_secret' || ctx.control.fault === 'revoked' || ctx.control.fault === 'expired')
        return unauthenticated(ctx.control.fault);
      const owner = given ? tokens.get(given) : undefined;
      if (!given || !owner || revoked.has(given)) return unauthenticated(owner ? 'revoked' : 'unknown');
      if (!owner.vpsAccess) return ctx.json(res, 403, { message: 'This action is unauthorized.', correlation_id: correlationId() });
      const vm = owner.vms.find((v) => v.id === Number(vmPath[1]));
      if (!vm) return ctx.json(res, 404, { message: 'Virtual machine not found.', correlation_id: correlationId() });
      const action = vmPath[2];
      if (!action)
        return req.method === 'GET'
          ? ctx.json(res, 200, vm)
          : ctx.json(res, 405, { message: 'Method not allowed.', correlation_id: correlationId() });
      if (req.method !== 'POST') return ctx.json(res, 405, { message: 'Method not allowed.', correlation_id: correlationId() });
      vm.state = action === 'stop' ? 'stopped' : 'running';
      const at = new Date().toISOString();
      return ctx.json(res, 200, { id: ++actionSeq, name: action, state: 'success', created_at: at, updated_at: at });
    }
    if (ctx.url.pathname !== '/api/vps/v1/virtual-machines')
      return ctx.json(res, 404, { message: 'Not found.', correlation_id: correlationId() });
    if (req.method !== 'GET') return ctx.json(res, 405, { message: 'Method not allowed.', correlation_id: correlationId() });
    if (ctx.control.fault === 'wrong_secret' || ctx.control.fault === 'revoked' || ctx.control.fault === 'expired')
      return unauthenticated(ctx.control.fault);
    if (!given) return unauthenticated('missing');
    const entry = tokens.get(given);
    if (!entry || revoked.has(given)) return unauthenticated(entry ? 'revoked' : 'unknown');
    if (!entry.vpsAccess) {
      return ctx.json(res, 403, {
        message: state.echoSecrets ? `Token ${given} has no access to the VPS API.` : 'This action is unauthorized.',
        correlation_id: correlationId()
      });
    }
    return ctx.json(res, 200, entry.vms);
  }, opts);

  return Object.assign(peer, { hostinger: state });
}
