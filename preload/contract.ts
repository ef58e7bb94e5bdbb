// THE contract between the renderer and the main process: error codes, result envelopes, channels, events, and the
// views — the outward shape of each object (credential, binding, execution, prompt, audit entry), one definition for
// IPC answers and CLI --json alike. It loads in main (Node), in the preload and in the renderer, so it depends on
// nothing but zod (and ./errors.ts).
import { z } from 'zod';

export { ERROR_CODES, type ErrorCode, type ErrorShape, type Result } from './errors.ts';
import type { ErrorCode, ErrorShape, Result } from './errors.ts';
import { EXECUTION_STATUSES, type ExecutionStatus } from './statuses.ts';
export { EXECUTION_STATUSES, type ExecutionStatus } from './statuses.ts';

// ---------------------------------------------------------------------------------------------
// Events (main → renderer). Payloads are ids, names, codes and counts: never secret material.

export interface KeydeskEvents {
  /** A write committed in this process: one per audit entry, after the commit. */
  'vault.changed': { seq: number; action: string; credentialId: string | null };
  /** The vault was locked or unlocked. */
  'vault.lock': { locked: boolean };
  /** Progress of a validation run (one credential or "validate all"): counts, and the credential that just finished. */
  'validation.progress': ValidationProgress;
  /** An execution changed status (one event per transition, after the commit). */
  'execution.changed': ExecutionChanged;
  /** A re-auth prompt was raised for a credential (runs wait on it), or cleared (re-authenticated, or past the cutoff). */
  'reauth.prompt': ReauthPromptEvent;
  /** Progress of an OAuth sign-in (connect / reauth). Never the authorization URL, its state, the code or a token. */
  'oauth.flow': OAuthFlowEvent;
}

export interface OAuthFlowEvent {
  /** One id per sign-in attempt. */
  flowId: string;
  /** null while a new credential is being created by signing in (it exists only once the flow succeeded). */
  credentialId: string | null;
  credentialName: string;
  stage: 'started' | 'waiting_for_browser' | 'completed' | 'failed';
  /** For `failed`: OAUTH_DENIED, OAUTH_TIMEOUT, OAUTH_CANCELLED, OAUTH_FAILED, PROVIDER_* … */
  error?: { code: ErrorCode; message: string };
}
export type EventName = keyof KeydeskEvents;

/** An execution's status (the one list is EXECUTION_STATUSES). */
export type ExecutionStatusName = ExecutionStatus;

/** Ids, the capability, its target and the new status: never a secret. */
export interface ExecutionChanged {
  id: string;
  capability: string;
  target: string;
  status: ExecutionStatusName;
  /** null when the run was just created. */
  previous: ExecutionStatusName | null;
  credentialId: string | null;
  failureReason: 'credential_invalid' | 'cloud_api_error' | 'inventory_not_found' | 'input_invalid' | null;
  marker: 'superseded' | 'interrupted' | null;
  /** While awaiting re-authentication: when the wait ends. */
  deadline: string | null;
}

export interface ReauthPromptEvent {
  credentialId: string;
  credentialName: string;
  state: 'raised' | 'resolved' | 'expired';
  /** When the last waiting run gives up. */
  deadline: string;
  /** Runs waiting on this credential now. */
  waiting: number;
  /** oauth: re-authenticate with a browser flow; secret: enter the secret fields again. */
  method: 'oauth' | 'secret';
}

/** One step of a validation run. Ids, names, statuses and provider codes only: never a secret, never a message. */
export interface ValidationProgress {
  runId: string;
  total: number;
  /** Credentials finished (checked or skipped). */
  done: number;
  /** Credentials being checked right now (at most the run's concurrency). */
  inFlight: number;
  /** The credential that just finished; null on the run's first event. */
  credential: {
    id: string;
    name: string;
    provider: string;
    /** skipped: not checked (the provider cannot validate yet, or the run was cancelled). */
    status: 'ok' | 'failed' | 'expired' | 'unknown' | 'skipped';
    errorCode: string | null;
  } | null;
  finished: boolean;
}

/**
 * Every event name, at run time (the preload and the IPC layer forward only these). Adding an event to
 * KeydeskEvents without listing it here fails the type check below.
 */
export const EVENT_NAMES = [
  'vault.changed',
  'vault.lock',
  'validation.progress',
  'execution.changed',
  'reauth.prompt',
  'oauth.flow'
] as const satisfies readonly EventName[];
type _EveryEventListed = Exclude<EventName, (typeof EVENT_NAMES)[number]> extends never ? true : never;
export const _everyEventListed: _EveryEventListed = true;

// =============================================================================================
// Channels (renderer → main). One `as const` map per domain; each channel names its zod input schema and,
// as a phantom type, its output. Outputs are plain serialisable data and never carry a secret: secret fields
// are write-only (the add/update inputs carry them; no output does).
// =============================================================================================

/** A phantom marker carrying a channel's output type. It is never read at run time. */
export interface Returns<T> {
  readonly __returns?: T;
}
function returns<T>(): Returns<T> {
  return {};
}

/** Channels that take no input accept nothing or an empty object. */
const NoInput = z.strictObject({}).optional();

/** A credential, audit or other record id (UUIDs), or a credential name — never free text beyond 128 characters. */
const Ref = z.string().min(1, 'An id is required').max(128, 'An id is at most 128 characters');
const FieldName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'Field names are lower-case letters, digits and _');
/** Field values, secret or not. Bounded so a hostile renderer cannot make main allocate without limit. */
const FieldValues = z.record(FieldName, z.string().max(65536, 'A field value is at most 65,536 characters'));

/** Same rule as the vault's own check (main/vault/passphrase.ts MIN_PASSPHRASE_LENGTH; a test keeps them equal). */
export const PASSPHRASE_MIN_LENGTH = 8;
const Passphrase = z.string().max(1024, 'A passphrase is at most 1,024 characters');

export type KeySource = 'keychain' | 'passphrase';

export interface VaultStatus {
  /**
   * missing: no vault at `path` yet (first run); locked: metadata readable, secrets not; unlocked;
   * unusable: a file is there but cannot be opened (see `problem`: VAULT_TOO_NEW, VAULT_CORRUPT…).
   */
  state: 'missing' | 'locked' | 'unlocked' | 'unusable';
  problem: ErrorShape | null;
  path: string;
  keySource: KeySource | null;
  vaultId: string | null;
  credentials: number;
  auditEntries: number;
  /** Minutes of idle time after which the app locks itself. */
  autoLockMinutes: number;
}

export const vaultChannels = {
  'vault.status': { input: NoInput, output: returns<VaultStatus>() },
  'vault.create': {
    input: z
      .strictObject({
        keySource: z.enum(['keychain', 'passphrase'], 'Choose the OS keychain or a passphrase'),
        passphrase: Passphrase.optional()
      })
      .superRefine((v, ctx) => {
        if (v.keySource === 'passphrase' && (v.passphrase ?? '').length < PASSPHRASE_MIN_LENGTH) {
          ctx.addIssue({ code: 'custom', path: ['passphrase'], message: `Use at least ${PASSPHRASE_MIN_LENGTH} characters` });
        }
        if (v.keySource === 'keychain' && v.passphrase !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['passphrase'], message: 'A keychain vault has no passphrase' });
        }
      }),
    output: returns<VaultStatus>()
  },
  'vault.unlock': { input: z.strictObject({ passphrase: Passphrase.optional() }), output: returns<VaultStatus>() },
  'vault.lock': { input: NoInput, output: returns<VaultStatus>() }
} as const;

export const FIELD_KINDS = ['text', 'url', 'email', 'json', 'pem', 'number', 'uuid', 'scopes'] as const;
export type FieldKindView = (typeof FIELD_KINDS)[number];

export const FieldViewSchema = z.strictObject({
  name: z.string(),
  label: z.string(),
  /** Secret fields are write-only: the form can set or replace them, never read them. */
  secret: z.boolean(),
  required: z.boolean(),
  multiline: z.boolean(),
  kind: z.enum(FIELD_KINDS),
  last4: z.boolean(),
  /** Changing an endpoint needs the secret fields again. */
  endpoint: z.boolean(),
  help: z.string().nullable(),
  placeholder: z.string().nullable()
});
export const ModeViewSchema = z.strictObject({
  id: z.string(),
  label: z.string(),
  /** OAuth modes get their tokens from a flow ("Connect"), not from the form. */
  oauth: z.boolean(),
  rotationDays: z.number(),
  fields: z.array(FieldViewSchema)
});
export const CapabilityViewSchema = z.strictObject({
  id: z.string(),
  label: z.string(),
  permissions: z.array(z.string()),
  /** Modes that can perform it; null = every mode. */
  modes: z.array(z.string()).nullable(),
  note: z.string().nullable(),
  /** How this provider names the target ("An EC2 instance id or ARN", with an example); null: the capability's kind says. */
  target: z.strictObject({ label: z.string(), placeholder: z.string() }).nullable(),
  /** Scoped capabilities: what the scope is, and the credential field that holds its default. */
  scope: z.strictObject({ label: z.string(), placeholder: z.string(), field: z.string() }).nullable(),
  /** Yes/no choices of a run, with their defaults. */
  options: z.array(z.strictObject({ name: z.string(), label: z.string(), help: z.string(), default: z.boolean() }))
});
/** One provider of the catalog: what the form shows and `keydesk providers` lists. */
export const ProviderViewSchema = z.strictObject({
  id: z.string(),
  label: z.string(),
  /** One line: what a credential of this provider is and what Keydesk does with it. */
  summary: z.string(),
  /** Where the analyst creates or finds the credential. */
  setup: z.string(),
  tenantScoped: z.boolean(),
  modes: z.array(ModeViewSchema),
  capabilities: z.array(CapabilityViewSchema),
  validationPermissions: z.array(z.string())
});
export type FieldView = z.infer<typeof FieldViewSchema>;
export type ModeView = z.infer<typeof ModeViewSchema>;
export type CapabilityView = z.infer<typeof CapabilityViewSchema>;
export type ProviderView = z.infer<typeof ProviderViewSchema>;

export const providerChannels = {
  'providers.list': { input: NoInput, output: returns<ProviderView[]>() }
} as const;

export const CREDENTIAL_STATUSES = ['ok', 'failed', 'expired', 'unknown'] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];

const ErrorPair = z.strictObject({ code: z.string(), message: z.string() });
const ExpirySource = z.enum(['provider', 'secret', 'analyst']).nullable();

export const ExpiryViewSchema = z.strictObject({
  at: z.string(),
  source: ExpirySource,
  state: z.enum(['ok', 'soon', 'expired']),
  /** "expires in 3 days", "expired 2 days ago". */
  label: z.string()
});
export const RotationViewSchema = z.strictObject({
  policyDays: z.number(),
  dueAt: z.string(),
  due: z.boolean(),
  soon: z.boolean(),
  /** "rotation due (last rotated 120 days ago; policy: every 90 days)", "next rotation in 2 months". */
  label: z.string()
});
/** A role session made at the last validation (aws assume_role): its expiry is the session's, not the credential's. */
export const SessionViewSchema = z.strictObject({ expiresAt: z.string(), label: z.string() });
export const LifecycleViewSchema = z.strictObject({
  expiry: ExpiryViewSchema.nullable(),
  rotation: RotationViewSchema.nullable(),
  session: SessionViewSchema.nullable()
});
export const ReadinessLineSchema = z.strictObject({
  capability: z.string(),
  label: z.string(),
  /** null: not known yet (never validated, or the provider does not tell before trying). */
  ready: z.boolean().nullable(),
  /** The exact permissions missing, when the provider told us. */
  missing: z.array(z.string()),
  /** Every permission the capability needs (from the provider spec). */
  needs: z.array(z.string()),
  note: z.string().nullable()
});
export const ReadinessViewSchema = z.strictObject({
  /** False until a validation has said anything about what the credential can do. */
  known: z.boolean(),
  lines: z.array(ReadinessLineSchema),
  /** A provider without capabilities says so instead of an empty list. */
  note: z.string().nullable()
});
export type ExpiryView = z.infer<typeof ExpiryViewSchema>;
export type RotationView = z.infer<typeof RotationViewSchema>;
export type SessionView = z.infer<typeof SessionViewSchema>;
export type LifecycleView = z.infer<typeof LifecycleViewSchema>;
export type ReadinessLine = z.infer<typeof ReadinessLineSchema>;
export type ReadinessView = z.infer<typeof ReadinessViewSchema>;

/** Everything about a credential that is not secret. */
export const CredentialViewSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  provider: z.string(),
  mode: z.string(),
  /** Readable copies: non-secret field values, last four characters of key/client ids, derived facts. */
  metadata: z.record(z.string(), z.string()),
  /** Names of the secret fields that hold a value — never the values. */
  secretsSet: z.array(z.string()),
  /** What validation (or a sign-in) learned, as recorded: account ids, readiness, suggestions, granted scopes. */
  observed: z.record(z.string(), z.unknown()),
  status: z.enum(CREDENTIAL_STATUSES),
  lastError: ErrorPair.nullable(),
  checkedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  expirySource: ExpirySource,
  createdAt: z.string(),
  updatedAt: z.string(),
  rotatedAt: z.string(),
  /** Expiry, rotation against the mode's policy, and a role session's expiry, with labels. */
  lifecycle: LifecycleViewSchema,
  /** When the secret is due for rotation under its mode's policy, and whether that time has passed. */
  rotationDueAt: z.string(),
  rotationDue: z.boolean(),
  /** Who the credential is (account, ARN, client email, tenant…). */
  identity: z.record(z.string(), z.string()),
  /** What it can do, and what it is missing. */
  readiness: ReadinessViewSchema,
  /** Domains its tenant owns, not necessarily bound yet. */
  suggestions: z.array(z.string()),
  /** Scopes or roles the provider says were granted. */
  granted: z.array(z.string())
});
export type CredentialView = z.infer<typeof CredentialViewSchema>;

const CredentialAdd = z.strictObject({
  name: z.string().max(256, 'A name is at most 64 characters'),
  provider: z.string().min(1, 'Choose a provider').max(64, 'Choose a provider'),
  mode: z.string().min(1, 'Choose an auth mode').max(64, 'Choose an auth mode'),
  values: FieldValues,
  expiresAt: z.string().max(64, 'Use YYYY-MM-DD').nullable().optional()
});

const CredentialUpdate = z.strictObject({
  id: Ref,
  /** Only the fields that change; a secret field given here replaces the stored one. "" clears an optional field. */
  values: FieldValues.optional(),
  expiresAt: z.string().max(64, 'Use YYYY-MM-DD').nullable().optional()
});

export const credentialChannels = {
  'credentials.list': { input: NoInput, output: returns<CredentialView[]>() },
  'credentials.get': { input: z.strictObject({ id: Ref }), output: returns<CredentialView>() },
  'credentials.add': { input: CredentialAdd, output: returns<CredentialView>() },
  'credentials.update': { input: CredentialUpdate, output: returns<CredentialView>() },
  'credentials.rename': {
    input: z.strictObject({ id: Ref, name: z.string().max(256, 'A name is at most 64 characters') }),
    output: returns<CredentialView>()
  },
  'credentials.remove': { input: z.strictObject({ id: Ref }), output: returns<{ id: string; name: string }>() },
  /**
   * Guided rotation: new secret fields (made at the provider) are proven there first and replace the stored ones only
   * if the provider accepts them; a rejected or unanswered new secret changes nothing. Secret fields only.
   */
  'credentials.rotate': { input: z.strictObject({ id: Ref, values: FieldValues }), output: returns<CredentialView>() }
} as const;

export const AuditEntryViewSchema = z.strictObject({
  seq: z.number(),
  at: z.string(),
  /** "analyst:NAME (app|cli)" or "agent:NAME". */
  actor: z.string(),
  action: z.string(),
  credentialId: z.string().nullable(),
  credentialName: z.string().nullable(),
  outcome: z.enum(['ok', 'error', 'failed', 'denied']),
  detail: z.record(z.string(), z.unknown()),
  /** The entry's chain MAC (hex): what an external log or SIEM can anchor. Never a secret. */
  mac: z.string()
});
export type AuditEntryView = z.infer<typeof AuditEntryViewSchema>;

export type AuditVerifyView =
  | { ok: true; entries: number; headSeq: number; anchoredSeq: number | null }
  | { ok: false; entries: number; firstBadSeq: number; problem: 'edited' | 'removed' | 'reordered' | 'truncated'; message: string };

export const auditChannels = {
  'audit.list': {
    input: z
      .strictObject({
        credentialId: Ref.optional(),
        limit: z.int('The limit is a whole number').min(1, 'The limit is 1–1000').max(1000, 'The limit is 1–1000').optional()
      })
      .optional(),
    output: returns<AuditEntryView[]>()
  },
  'audit.verify': { input: NoInput, output: returns<AuditVerifyView>() }
} as const;

// ---- validation ------------------------------------------------------------------------------------

export interface ValidationRunView {
  runId: string;
  total: number;
  ok: number;
  failed: number;
  expired: number;
  unknown: number;
  /** Not checked: the provider cannot validate yet, or the run was cancelled or stopped. */
  skipped: number;
  /** Set when the run stopped early (the vault was locked, the key rotated, or it was cancelled). */
  stopped: ErrorShape | null;
  results: { credentialId: string; name: string; status: CredentialStatus | 'skipped'; errorCode: string | null }[];
}

export const validationChannels = {
  /** Asks the provider whether the credential works and records ok / failed / expired / unknown. */
  'validation.validate': { input: z.strictObject({ credentialId: Ref }), output: returns<CredentialView>() },
  /** Every credential, a bounded number at once; progress arrives as validation.progress events. */
  'validation.validateAll': { input: NoInput, output: returns<ValidationRunView>() },
  /** Stops the validation runs this window started; credentials not yet checked keep their status. */
  'validation.cancel': { input: NoInput, output: returns<{ cancelled: number }>() }
} as const;

// ---- domain bindings and routing ----------------------------------------------------------------

export const BindingViewSchema = z.strictObject({
  id: z.string(),
  credentialId: z.string(),
  credentialName: z.string(),
  provider: z.string(),
  mode: z.string(),
  /** ASCII (punycode) form, as stored and compared. */
  domain: z.string(),
  /** The same domain in Unicode, for display. */
  domainDisplay: z.string(),
  /** Parent-domain match: the binding also covers subdomains. */
  subdomains: z.boolean(),
  createdAt: z.string(),
  /** MAC check: true/false when unlocked, null while locked (not checked). */
  intact: z.boolean().nullable()
});
export type BindingView = z.infer<typeof BindingViewSchema>;
/** What a bind did: the binding, and whether it was added, updated (its subdomains flag) or already so. */
export const BindingChangeViewSchema = BindingViewSchema.extend({ change: z.enum(['added', 'updated', 'unchanged']) });
export type BindingChangeView = z.infer<typeof BindingChangeViewSchema>;

export const ResolutionViewSchema = z.strictObject({
  capability: z.string(),
  host: z.strictObject({ kind: z.enum(['email', 'domain']), value: z.string(), domain: z.string() }),
  credentialId: z.string(),
  credentialName: z.string(),
  provider: z.string(),
  mode: z.string(),
  bindingId: z.string(),
  domain: z.string(),
  subdomains: z.boolean(),
  matched: z.enum(['exact', 'parent']),
  /** False for a preview on a locked vault: the bindings' MACs were not checked. */
  verified: z.boolean()
});
export type ResolutionView = z.infer<typeof ResolutionViewSchema>;

const DomainInput = z.string().min(1, 'Enter a domain').max(300, 'A domain is at most 253 characters');
const CapabilityInput = z.string().min(1, 'Choose a capability').max(64, 'Choose a capability');
const MailboxInput = z.string().max(320, 'An email address is at most 320 characters');

export const bindingChannels = {
  'bindings.list': { input: z.strictObject({ credentialId: Ref.optional() }).optional(), output: returns<BindingView[]>() },
  'bindings.bind': {
    input: z.strictObject({ credentialId: Ref, domain: DomainInput, subdomains: z.boolean('Yes or no').optional() }),
    output: returns<BindingChangeView>()
  },
  'bindings.unbind': {
    input: z.strictObject({ credentialId: Ref, domain: DomainInput }),
    output: returns<{ id: string; credentialName: string; domain: string }>()
  },
  /** Domains the provider says the tenant owns, not yet bound to this credential. */
  'bindings.suggestions': { input: z.strictObject({ credentialId: Ref }), output: returns<string[]>() },
  'bindings.acceptSuggestions': {
    input: z.strictObject({
      credentialId: Ref,
      domains: z.array(DomainInput).max(200, 'At most 200 domains at once').optional(),
      subdomains: z.boolean('Yes or no').optional()
    }),
    output: returns<BindingView[]>()
  },
  /** "block_sender for alice@corp.example → M365 Corp". Verified when unlocked; a labelled unverified preview while locked. */
  'bindings.resolve': {
    input: z.strictObject({ capability: CapabilityInput, hostEmail: MailboxInput.optional(), hostDomain: DomainInput.optional() }),
    output: returns<ResolutionView>()
  }
} as const;

// ---- executions and re-auth prompts ----------------------------------------------------------------

export interface CapabilityShapeView {
  id: string;
  /** What the action does, for people ("Block a sender"). */
  label: string;
  /** What the target is. */
  target: 'email' | 'domain' | 'resource' | 'ip';
  /** Tenant capabilities are routed by host through domain bindings; resource capabilities name their credential. */
  tenant: boolean;
  /** Which host it takes (`optional`: defaults to the target's own domain). */
  host: 'email' | 'email_or_domain' | 'optional' | 'none';
  /** It acts inside a scope (a VPC or network ACL, a network, an NSG). */
  scope: boolean;
  /** It takes something away (sign-in, network, power): the app asks for confirmation, naming the target. */
  destructive: boolean;
}

/** Which credential a resource capability would run with when none is named (the run form shows it before Run). */
export interface ResourcePickView {
  credentialId: string;
  credentialName: string;
  provider: string;
  mode: string;
  status: string;
  /** The account / project / subscription the target names (null when it does not say). */
  account: string | null;
  /** One line: why this credential ("the only AWS credential for account 123456789012"). */
  why: string;
}

const ExecutionStatusSchema = z.enum(EXECUTION_STATUSES);

export const ExecutionViewSchema = z.strictObject({
  id: z.string(),
  capability: z.string(),
  target: z.string(),
  hostEmail: z.string().nullable(),
  hostDomain: z.string().nullable(),
  reason: z.string(),
  actor: z.string(),
  actorKind: z.enum(['analyst', 'agent']),
  credentialId: z.string().nullable(),
  credentialName: z.string(),
  provider: z.string(),
  mode: z.string(),
  bindingId: z.string().nullable(),
  boundDomain: z.string().nullable(),
  /** The status now: a wait whose deadline passed reads expired_awaiting_reauth even before that is written. */
  status: ExecutionStatusSchema,
  statusRecorded: z.boolean(),
  failureReason: z.enum(['credential_invalid', 'cloud_api_error', 'inventory_not_found', 'input_invalid']).nullable(),
  marker: z.enum(['superseded', 'interrupted']).nullable(),
  relatedId: z.string().nullable(),
  error: ErrorPair.nullable(),
  result: z.strictObject({ summary: z.string(), details: z.record(z.string(), z.unknown()).optional() }).nullable(),
  /** What revert will restore, captured before the provider call: provider ids, names, prior states. Never a secret. */
  revertContext: z.record(z.string(), z.unknown()).nullable(),
  /** Scoped capabilities: the scope it acted in (named by the run, or the credential's default). */
  scope: z.string().nullable(),
  /** The run's yes/no choices (every option the capability declares, with its value). */
  options: z.record(z.string(), z.boolean()),
  steps: z.array(z.strictObject({ at: z.string(), message: z.string() })),
  deadline: z.string().nullable(),
  attempts: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().nullable(),
  revertedAt: z.string().nullable(),
  /** A succeeded run, or one whose revert failed, can be reverted. */
  revertible: z.boolean()
});
export type ExecutionView = z.infer<typeof ExecutionViewSchema>;

export const PromptViewSchema = z.strictObject({
  id: z.string(),
  credentialId: z.string(),
  credentialName: z.string(),
  provider: z.string(),
  mode: z.string(),
  /** oauth: a browser sign-in re-authenticates; secret: the secret fields are entered again. */
  method: z.enum(['oauth', 'secret']),
  reasonCode: z.string(),
  reason: z.string(),
  raisedAt: z.string(),
  /** When the last waiting run gives up. */
  deadline: z.string(),
  waiting: z.array(z.strictObject({ id: z.string(), capability: z.string(), target: z.string(), deadline: z.string() }))
});
export type PromptView = z.infer<typeof PromptViewSchema>;

export interface ResumeView {
  credential: CredentialView;
  /** Runs resumed by this re-authentication (same execution ids), in their state after the provider call. */
  resumed: ExecutionView[];
  /** Waiting runs another process (the CLI) resumed first. */
  claimedElsewhere: string[];
}

export const executionChannels = {
  'executions.capabilities': { input: NoInput, output: returns<CapabilityShapeView[]>() },
  'executions.list': {
    input: z
      .strictObject({
        status: z.enum(EXECUTION_STATUSES, 'Unknown status').optional(),
        credentialId: Ref.optional(),
        limit: z.int('The limit is a whole number').min(1, 'The limit is 1–1000').max(1000, 'The limit is 1–1000').optional()
      })
      .optional(),
    output: returns<ExecutionView[]>()
  },
  'executions.get': { input: z.strictObject({ id: Ref }), output: returns<ExecutionView>() },
  'executions.run': {
    input: z.strictObject({
      capability: CapabilityInput,
      target: z.string().max(600, 'A target is at most 512 characters'),
      hostEmail: MailboxInput.optional(),
      hostDomain: DomainInput.optional(),
      reason: z.string().max(600, 'A reason is at most 500 characters'),
      /** Resource capabilities may name their credential (else the one whose account matches the target is used). */
      credential: Ref.optional(),
      /** Scoped capabilities (block_ip): the VPC or network ACL, network, or NSG; default: the credential's. */
      scope: z.string().max(600, 'A scope is at most 512 characters').optional(),
      options: z.record(z.string().max(64, 'An option name is at most 64 characters'), z.boolean('Yes or no')).optional()
    }),
    output: returns<ExecutionView>()
  },
  /** Which credential would run a resource capability on a target when none is named. */
  'executions.pickCredential': {
    input: z.strictObject({ capability: CapabilityInput, target: z.string().max(600, 'A target is at most 512 characters') }),
    output: returns<ResourcePickView>()
  },
  /** `force`: revert even though the resource changed since the run (the drift the refusal named). */
  'executions.revert': { input: z.strictObject({ id: Ref, force: z.boolean('Yes or no').optional() }), output: returns<ExecutionView>() }
} as const;

export const promptChannels = {
  'prompts.list': { input: NoInput, output: returns<PromptView[]>() },
  /**
   * One-click re-authentication of a static credential: new secret fields replace the stored ones, the credential
   * is validated, and only when it is ok do the waiting runs resume. A locked vault unlocks first, in the same
   * gesture (`passphrase` for a passphrase vault).
   */
  'prompts.reauthWithSecrets': {
    input: z.strictObject({ credentialId: Ref, values: FieldValues, passphrase: Passphrase.optional() }),
    output: returns<ResumeView>()
  }
} as const;

export const oauthChannels = {
  /**
   * Signs in (connect, or re-authenticate an expired OAuth credential) in the system browser; the waiting runs
   * resume when it succeeds. A locked vault unlocks first, in the same gesture.
   */
  'oauth.connect': { input: z.strictObject({ credentialId: Ref, passphrase: Passphrase.optional() }), output: returns<CredentialView>() },
  /** Creates an OAuth credential by signing in: it is stored only with its tokens. */
  'oauth.connectNew': {
    input: z.strictObject({
      name: z.string().max(256, 'A name is at most 64 characters'),
      provider: z.string().min(1, 'Choose a provider').max(64, 'Choose a provider'),
      mode: z.string().min(1, 'Choose an auth mode').max(64, 'Choose an auth mode'),
      values: FieldValues
    }),
    output: returns<CredentialView>()
  },
  /** Stops the sign-ins this window started (the browser page stays open but its answer is no longer accepted). */
  'oauth.cancel': { input: NoInput, output: returns<{ cancelled: number }>() }
} as const;

/** Every channel of every domain. A channel name appears exactly once (mergeDomains refuses a duplicate at load). */
export const CHANNELS = mergeDomains(
  vaultChannels,
  providerChannels,
  credentialChannels,
  auditChannels,
  validationChannels,
  bindingChannels,
  executionChannels,
  promptChannels,
  oauthChannels
);

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Merges the domain maps; a channel name declared by two domains is a programming error caught at load. */
function mergeDomains<T extends readonly Record<string, { input: z.ZodType; output: Returns<unknown> }>[]>(
  ...domains: T
): Readonly<UnionToIntersection<T[number]>> {
  const out: Record<string, unknown> = {};
  for (const d of domains) {
    for (const [k, v] of Object.entries(d)) {
      if (Object.hasOwn(out, k)) throw new Error(`Channel ${k} is declared by two contract domains.`);
      out[k] = v;
    }
  }
  return Object.freeze(out) as Readonly<UnionToIntersection<T[number]>>;
}

export type Channels = typeof CHANNELS;
export type ChannelName = keyof Channels;
/** What the renderer passes (before defaults). */
export type ChannelInput<C extends ChannelName> = z.input<Channels[C]['input']>;
/** What a handler receives (after parsing). */
export type ChannelParsed<C extends ChannelName> = z.output<Channels[C]['input']>;
export type ChannelOutput<C extends ChannelName> = Channels[C]['output'] extends Returns<infer T> ? T : never;

export const CHANNEL_NAMES = Object.freeze(Object.keys(CHANNELS)) as readonly ChannelName[];

/** The one object the preload exposes as `window.keydesk`. */
export interface KeydeskBridge {
  /** Calls one contract channel. Never rejects: every failure is an `{ ok: false, error }` result. */
  invoke<C extends ChannelName>(channel: C, input?: ChannelInput<C>): Promise<Result<ChannelOutput<C>>>;
  /** Subscribes to one contract event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: KeydeskEvents[E]) => void): () => void;
}
