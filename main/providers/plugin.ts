import type { Clock } from '../clock.ts';
import type { CredentialMaterial, CredentialStatus } from '../vault/credential-store.ts';
import type { Secret } from '../vault/secret.ts';
import type { CapabilityId } from './capabilities.ts';
import type { ProviderHttp } from './http.ts';

/**
 * The behaviour half of a provider (the static half is its ProviderSpec): the validation plugin and the capability
 * handlers a manifest loads lazily, so the CLI does not pay for every SDK on every command.
 */

export interface CapabilityReadiness {
  capability: CapabilityId;
  /** null when the provider does not tell us (we cannot know before trying). */
  ready: boolean | null;
  /** The exact permissions (scopes, roles, IAM actions) that are missing. */
  missing: string[];
  note?: string;
}

/** Readable facts validation learned. Stored in the credential's `observed` JSON; never secret. */
export interface Observed {
  /** Who the credential is: account id, ARN, client email, tenant, project… */
  identity?: Record<string, string>;
  readiness?: CapabilityReadiness[];
  /** Domains the tenant owns (Graph verified domains, Directory domains): binding suggestions. */
  suggestions?: string[];
  /** Scopes / roles the provider says were granted. */
  granted?: string[];
}

export interface ValidationOutcome {
  status: CredentialStatus;
  /** The provider's own error code plus a short actionable message. Never a secret, never a stack. */
  error: { code: string; message: string } | null;
  /** Expiry the provider told us (STS session, token, client secret end date); undefined = unknown. */
  expiresAt?: string | null;
  observed?: Observed;
}

export interface ValidateContext {
  credential: CredentialMaterial;
  /** fetch with the per-request timeout, the cancel signal and 429 Retry-After handling built in (call.ts). */
  http: ProviderHttp;
  timeoutMs: number;
  signal: AbortSignal;
  clock: Clock;
}

export interface ValidationPlugin {
  /**
   * The auth modes `validate` judges, when not all of them: credentials of other modes (OAuth modes, whose check is a
   * token refresh — `keydesk refresh`) are skipped by validation, never recorded as a result.
   */
  validates?: readonly string[];
  validate(ctx: ValidateContext): Promise<ValidationOutcome>;
}

// ---------------------------------------------------------------------------------------------
// Capabilities: response actions. One module per provider (`<provider>/capabilities.ts`), loaded lazily by its
// manifest. The execution service owns the lifecycle (statuses, audit, re-auth waits);
// a handler only talks to its provider and reports what happened.

/** Results and revert context are stored as JSON and shown to the analyst: ids, names, prior states — never secrets. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface ActionInput {
  capability: CapabilityId;
  /** Normalised target: a mailbox (block_sender, disable_user), a domain (block_email_domain), a resource id (power). */
  target: string;
  /** The protected host of a tenant capability (null for resource capabilities). */
  host: { kind: 'email' | 'domain'; value: string; domain: string } | null;
  /** Why the analyst or agent runs it (a provider that keeps a note, e.g. a blocklist entry's reason, gets it). */
  reason: string;
  /** Scoped capabilities (block_ip): the scope the run names (a VPC or network ACL, a network, an NSG), else null. */
  scope: string | null;
  /** The run's yes/no choices (CapabilitySpec.options), every declared option present with its value. */
  options: Readonly<Record<string, boolean>>;
}

export interface ActionContext {
  credential: CredentialMaterial;
  http: ProviderHttp;
  timeoutMs: number;
  signal: AbortSignal;
  clock: Clock;
  /**
   * OAuth modes: the current access token, refreshed when close to expiry (app.oauth.accessToken). A failed refresh
   * marks the credential expired and surfaces here as ActionError('reauth').
   */
  accessToken(): Promise<Secret>;
  /**
   * Persists revert context now — call it before the call that changes anything, with what is needed to undo it
   * (the prior state, or how to find what is about to be created), so a run that dies mid-call still says.
   */
  captureRevert(context: JsonObject): void;
  /** A line for the execution's step log (secret-free: ids, names, HTTP statuses). */
  step(message: string): void;
  /**
   * When this run resumes after a re-authentication wait: the revert context an earlier attempt of the same run
   * captured (it may already have changed something — e.g. disabled the user before the provider rejected the next
   * call — and its record of the prior state is the true one). For a handler that `continuesUnfinished`, on a first
   * attempt: the record of the earlier identical run that stopped part-way, if the latest one did. null otherwise.
   */
  previousRevertContext: JsonObject | null;
  /** The run this is (its execution id and actor): narrowed provider sessions carry them (session name, tags). */
  run: { id: string; actor: string };
  /** Revert only: the analyst confirmed a revert over drift (keydesk revert --force); handlers then skip the check. */
  force: boolean;
  /**
   * Records a short-lived provider session made for this run (an AWS role session, a GCP impersonated token) in the
   * audit log and the steps: its name and expiry, never its keys.
   */
  session(info: { name: string; expiresAt: string | null; kind: string }): void;
  /** Waits between polls of a long-running provider operation (instant under a test's injected sleep). */
  sleep(ms: number): Promise<void>;
}

export interface ActionResult {
  /** One line for the analyst: what changed. */
  summary: string;
  details?: JsonObject;
  /** The final revert context (replaces what captureRevert stored). */
  revertContext: JsonObject;
}

export interface RevertResult {
  summary: string;
  details?: JsonObject;
}

/**
 * What a revert handler throws when the resource changed since the run (another tool or person edited it): the revert
 * would overwrite their change, so it is refused, saying what differs. `keydesk revert --force` (a confirm step in
 * the app) reverts anyway: the handler sees ctx.force.
 */
export class RevertDrift extends Error {
  readonly differences: string[];

  constructor(differences: string[]) {
    super(`The resource changed since this run: ${differences.join('; ')}.`);
    this.name = 'RevertDrift';
    this.differences = differences;
  }
}

/**
 * Why an action failed, in the execution's terms: `reauth` (the provider rejected the credential: the run waits for
 * re-authentication) or one of the failure reasons.
 */
export type ActionFailureKind = 'reauth' | 'credential_invalid' | 'cloud_api_error' | 'inventory_not_found' | 'input_invalid';

/** What a capability handler throws. `message` is for the analyst and never contains a secret. */
export class ActionError extends Error {
  readonly kind: ActionFailureKind;
  /** The provider's own error code (HTTP status or error name). */
  readonly providerCode: string;
  /** For `reauth`: what the credential's status becomes (a rejected key: failed; an expired secret or token: expired). */
  readonly credentialStatus: 'failed' | 'expired';

  constructor(kind: ActionFailureKind, providerCode: string, message: string, opts: { credentialStatus?: 'failed' | 'expired' } = {}) {
    super(message);
    this.name = 'ActionError';
    this.kind = kind;
    this.providerCode = providerCode;
    this.credentialStatus = opts.credentialStatus ?? 'failed';
  }
}

export interface CapabilityHandler {
  /** Provider-specific input rules (e.g. a Hostinger VPS id is a number); the message when `input` is not acceptable. */
  checkInput?(input: ActionInput, credential: { mode: string }): string | null;
  /** Performs the action. Captures revert context (ctx.captureRevert) before the provider call that changes state. */
  execute(ctx: ActionContext, input: ActionInput): Promise<ActionResult>;
  /** Undoes it from the revert context, restoring the prior state. */
  revert(ctx: ActionContext, revertContext: JsonObject, input: ActionInput): Promise<RevertResult>;
  /**
   * A new run continues an earlier identical run that stopped part-way (failed, or interrupted by a dead process, after
   * recording its revert context): `previousRevertContext` is that run's record, whose prior state is the true one and
   * whose created items the new run takes over, so reverting the new run restores the state before both.
   */
  continuesUnfinished?: boolean;
}

export type ProviderCapabilities = Partial<Record<CapabilityId, CapabilityHandler>>;
