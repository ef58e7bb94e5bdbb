import { malformed, ok, outcome, unavailable } from '../outcome.ts';
import { joinUrl, parseJson, readText } from '../answers.ts';
import type { CapabilityReadiness, Observed, ValidationPlugin, ValidateContext, ValidationOutcome } from '../plugin.ts';
import { jsonField } from '../spec.ts';
import {
  externalAccountToken,
  googleApiError,
  googleGet,
  serviceAccountToken,
  transportOutcome,
  type ServiceAccountKey
} from './google-auth.ts';
import { GCP_CAPABILITY_PERMISSIONS, gcpSpec } from './spec.ts';

/**
 * Google Cloud: a token (service account key: the JWT bearer grant; workload identity federation: STS token
 * exchange, then impersonation when configured), then a Cloud Resource Manager project lookup with it. The token
 * asks only for cloud-platform.read-only: validation reads, nothing more.
 */

export const CRM_BASE = 'https://cloudresourcemanager.googleapis.com';
export const READ_ONLY_SCOPE = 'https://www.googleapis.com/auth/cloud-platform.read-only';

interface Project {
  projectId: string;
  projectNumber?: string;
  name?: string;
}

/** GET {api_base_url}/v1/projects/{id}: the project, or why not. */
async function lookupProject(
  ctx: ValidateContext,
  base: string,
  id: string,
  token: string
): Promise<{ project: Project } | { outcome: ValidationOutcome }> {
  const url = joinUrl(base, `/v1/projects/${encodeURIComponent(id)}`);
  const r = await googleGet(ctx.http, url, token);
  if (r.status === null) return { outcome: r.outcome };
  const what = 'Cloud Resource Manager';
  const down = unavailable(r.status, what);
  if (down) return { outcome: down };
  const err = googleApiError(r.json);
  if (r.status === 401)
    return {
      outcome: outcome(
        'failed',
        err.status ?? 'UNAUTHENTICATED',
        `${what} did not accept the access token Google issued for this credential.`
      )
    };
  if (r.status === 403) {
    return {
      outcome: outcome(
        'failed',
        err.status ?? 'PERMISSION_DENIED',
        `The credential works, but it may not read project ${id} (it needs resourcemanager.projects.get, e.g. the Browser role), or the project does not exist.`
      )
    };
  }
  if (r.status === 404) return { outcome: outcome('failed', err.status ?? 'NOT_FOUND', `Project ${id} was not found.`) };
  if (r.status !== 200) return { outcome: outcome('failed', `HTTP_${r.status}`, `${what} refused the project lookup (HTTP ${r.status}).`) };
  const p = r.json as { projectId?: unknown; projectNumber?: unknown; name?: unknown } | undefined;
  if (!p || typeof p.projectId !== 'string') return { outcome: malformed(what, 'a project', url) };
  return {
    project: {
      projectId: p.projectId,
      ...(typeof p.projectNumber === 'string' ? { projectNumber: p.projectNumber } : {}),
      ...(typeof p.name === 'string' ? { name: p.name } : {})
    }
  };
}

/**
 * Readiness from Google's own answer: Cloud Resource Manager projects.testIamPermissions on the credential's project
 * with the union of the capabilities' permissions (it answers the subset held). Any failure → ready: null, saying why.
 */
export async function readiness(ctx: ValidateContext, base: string, project: string, token: string): Promise<CapabilityReadiness[]> {
  const ids = Object.keys(GCP_CAPABILITY_PERMISSIONS) as (keyof typeof GCP_CAPABILITY_PERMISSIONS)[];
  const asked = [...new Set(ids.flatMap((id) => GCP_CAPABILITY_PERMISSIONS[id]))].sort();
  const unknown = (note: string): CapabilityReadiness[] => ids.map((capability) => ({ capability, ready: null, missing: [], note }));
  let held: Set<string>;
  try {
    const res = await ctx.http(joinUrl(base, `/v1/projects/${encodeURIComponent(project)}:testIamPermissions`), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ permissions: asked })
    });
    const body = parseJson(await readText(res)) as { permissions?: unknown } | undefined;
    if (res.status !== 200 || !body || typeof body !== 'object')
      return unknown(`projects.testIamPermissions on ${project} answered HTTP ${res.status}; readiness is unknown.`);
    held = new Set(Array.isArray(body.permissions) ? body.permissions.filter((p): p is string => typeof p === 'string') : []);
  } catch (e) {
    return unknown(
      `projects.testIamPermissions on ${project} did not answer (${transportOutcome(e).error?.code ?? 'error'}); readiness is unknown.`
    );
  }
  return ids.map((capability) => {
    const missing = GCP_CAPABILITY_PERMISSIONS[capability].filter((p) => !held.has(p));
    return { capability, ready: missing.length === 0, missing, note: `From projects.testIamPermissions on ${project}.` };
  });
}

function projectIdentity(p: Project): Record<string, string> {
  return {
    project_id: p.projectId,
    ...(p.projectNumber ? { project_number: p.projectNumber } : {}),
    ...(p.name ? { project_name: p.name } : {})
  };
}

async function validateServiceAccountKey(ctx: ValidateContext): Promise<ValidationOutcome> {
  const key = jsonField(ctx.credential.secrets.service_account_json?.reveal()) as (ServiceAccountKey & Record<string, unknown>) | null;
  if (!key || typeof key.client_email !== 'string' || typeof key.private_key !== 'string' || typeof key.project_id !== 'string') {
    return outcome(
      'failed',
      'INVALID_KEY_FILE',
      'The stored service account JSON is missing client_email, private_key or project_id. Paste the key file again.'
    );
  }
  const identity: Record<string, string> = {
    client_email: key.client_email,
    ...(typeof key.private_key_id === 'string' ? { private_key_id_last4: key.private_key_id.slice(-4) } : {})
  };
  const token = await serviceAccountToken(ctx.http, key, [READ_ONLY_SCOPE], { tokenUrl: ctx.credential.fields.token_url });
  if (!token.ok) return { ...token.outcome, observed: { identity } };
  const base = ctx.credential.fields.api_base_url ?? CRM_BASE;
  const found = await lookupProject(ctx, base, key.project_id, token.accessToken);
  if ('outcome' in found) return { ...found.outcome, observed: { identity: { ...identity, project_id: key.project_id } } };
  return ok({
    identity: { ...identity, ...projectIdentity(found.project) },
    readiness: await readiness(ctx, base, found.project.projectId, token.accessToken)
  });
}

/** The project a federation configuration belongs to: the workforce pool's user project, or the number in the audience. */
export function externalAccountProject(config: Record<string, unknown>): string | null {
  if (typeof config.workforce_pool_user_project === 'string' && config.workforce_pool_user_project)
    return config.workforce_pool_user_project;
  const m = typeof config.audience === 'string' ? /\/projects\/([^/]+)\/locations\//.exec(config.audience) : null;
  return m?.[1] ?? null;
}

async function validateExternalAccount(ctx: ValidateContext): Promise<ValidationOutcome> {
  const config = jsonField(ctx.credential.secrets.external_account_json?.reveal());
  if (!config)
    return outcome('failed', 'INVALID_CONFIGURATION', 'The stored external account JSON cannot be read. Paste the configuration again.');
  // The audience and source kind are readable metadata already (the spec derives them when the credential is added).
  const described =
    gcpSpec.modes.find((m) => m.id === 'external_account')?.describe?.({ external_account_json: JSON.stringify(config) }) ?? {};
  const identity: Record<string, string> = described.impersonated_account ? { impersonated_account: described.impersonated_account } : {};
  const observed = (extra: Record<string, string> = {}): Observed => ({ identity: { ...identity, ...extra } });

  const token = await externalAccountToken(ctx.http, config, [READ_ONLY_SCOPE], { tokenUrl: ctx.credential.fields.token_url });
  if (!token.ok) return { ...token.outcome, observed: observed() };
  const project = externalAccountProject(config);
  if (!project) return ok(observed({ project_lookup: 'skipped: the configuration names no project' }));
  const base = ctx.credential.fields.api_base_url ?? CRM_BASE;
  const found = await lookupProject(ctx, base, project, token.accessToken);
  if ('outcome' in found) return { ...found.outcome, observed: observed() };
  return ok({
    ...observed(projectIdentity(found.project)),
    readiness: await readiness(ctx, base, found.project.projectId, token.accessToken)
  });
}

export const plugin: ValidationPlugin = {
  validate(ctx) {
    switch (ctx.credential.mode) {
      case 'service_account_key':
        return validateServiceAccountKey(ctx);
      case 'external_account':
        return validateExternalAccount(ctx);
      default:
        return Promise.resolve(outcome('failed', 'UNSUPPORTED_MODE', `Google Cloud has no auth mode "${ctx.credential.mode}".`));
    }
  }
};
