import { printable } from '../text.ts';
import type { ErrorShape, ValidationProgress } from '../../preload/contract.ts';
import type { Clock } from '../clock.ts';
import { KeydeskError, toErrorShape } from '../errors.ts';
import type { EventBus } from '../events.ts';
import { checkTimeout, openCall, type CallSettings } from '../providers/call.ts';
import { RetryAfterGate } from '../providers/http.ts';
import { outcomeFromThrown } from '../providers/outcome.ts';
import type { ValidationOutcome, ValidationPlugin } from '../providers/plugin.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { cleanErrorCode, cleanProviderText, makeScrubber, scrubDeep, type Scrubber } from '../providers/scrub.ts';
import { CREDENTIAL_STATUSES, type CredentialMaterial, type CredentialSummary, type LastError } from '../vault/credential-store.ts';
import type { CredentialService } from './service.ts';
import type { ValidateOptions, ValidationResult, ValidationRun, ValidationSummary } from './validation.ts';
import { newId } from '../builtins.ts';

/**
 * A validation run (ValidationService loads this module on the first validation): each credential's plugin,
 * decrypted material and provider call, at most `concurrency` at once, and every outcome sanitised before it is
 * recorded.
 */

export interface ValidationDeps {
  credentials: CredentialService;
  registry: ProviderRegistry;
  events: EventBus;
  clock: Clock;
  calls: CallSettings;
  /** The service's per-request timeout (a run may override it). */
  timeoutMs: number;
}

/**
 * Where the service meets untrusted provider answers. Every outcome goes through here before it is stored, returned
 * or emitted: the status must be one we know, the code a short token, the message and every observed string scrubbed
 * of the credential's secrets, the expiry a real date. Pure.
 */
export function sanitizeOutcome(raw: ValidationOutcome, scrubber: Scrubber): ValidationOutcome {
  const status = (CREDENTIAL_STATUSES as readonly string[]).includes(raw?.status) ? raw.status : 'unknown';
  let error: LastError | null = null;
  if (raw?.error || status !== 'ok') {
    const code = cleanErrorCode(raw?.error?.code, scrubber);
    const message = cleanProviderText(raw?.error?.message, scrubber) || 'The provider gave no reason.';
    error = { code, message };
  }
  let expiresAt: string | null | undefined;
  if (raw?.expiresAt === null) expiresAt = null;
  else if (typeof raw?.expiresAt === 'string' && !Number.isNaN(Date.parse(raw.expiresAt)))
    expiresAt = new Date(raw.expiresAt).toISOString();
  const observed =
    raw?.observed && typeof raw.observed === 'object' ? (scrubDeep(raw.observed, scrubber) as ValidationOutcome['observed']) : undefined;
  return { status, error, ...(expiresAt !== undefined ? { expiresAt } : {}), ...(observed ? { observed } : {}) };
}

/**
 * A provider that only says "rejected" (401) cannot tell an expired token from a wrong one; the date the credential
 * is recorded to expire can. A `failed` answer after that date is `expired`. Pure.
 */
export function reconcileWithKnownExpiry(o: ValidationOutcome, expiresAt: string | null, now: Date): ValidationOutcome {
  if (o.status !== 'failed' || !expiresAt) return o;
  const t = Date.parse(expiresAt);
  if (Number.isNaN(t) || t > now.getTime()) return o;
  const day = expiresAt.slice(0, 10);
  return {
    ...o,
    status: 'expired',
    error: {
      code: o.error?.code ?? 'EXPIRED',
      message: `${o.error?.message ?? 'The provider rejected the credential.'} Its recorded expiry (${day}) has passed: replace the secret.`
    }
  };
}

function summarize(results: readonly ValidationResult[]): ValidationSummary {
  const s: ValidationSummary = { total: results.length, ok: 0, failed: 0, expired: 0, unknown: 0, skipped: 0 };
  for (const r of results) {
    if (!r.recorded) s.skipped++;
    else s[r.credential.status]++;
  }
  return s;
}

function isStopError(e: unknown): e is KeydeskError {
  return e instanceof KeydeskError && (e.code === 'VAULT_LOCKED' || e.code === 'KEY_ROTATED');
}

/** Errors of the vault itself about one credential (tampering): recorded as `failed`, since the credential cannot be used. */
const UNUSABLE = new Set(['HEADER_TAMPERED', 'SECRET_TAMPERED', 'SECRET_SWAPPED']);

export async function runValidation(
  d: ValidationDeps,
  list: readonly CredentialSummary[],
  concurrency: number,
  opts: ValidateOptions
): Promise<ValidationRun> {
  const started = performance.now();
  const runId = newId();
  const timeoutMs = checkTimeout(opts.timeoutMs ?? d.timeoutMs);
  const gate = new RetryAfterGate();
  const results: ValidationResult[] = new Array<ValidationResult>(list.length);
  let done = 0;
  let inFlight = 0;
  let next = 0;
  let stopped: ErrorShape | null = null;

  const emit = (credential: ValidationProgress['credential']) => {
    const p: ValidationProgress = {
      runId,
      total: list.length,
      done,
      inFlight,
      credential,
      finished: done === list.length || (stopped !== null && inFlight === 0)
    };
    try {
      opts.onProgress?.(p);
    } catch {
      /* a progress listener's failure is its own */
    }
    d.events.emit('validation.progress', p);
  };

  emit(null);
  const worker = async () => {
    while (stopped === null && next < list.length) {
      const index = next++;
      const summary = list[index] as CredentialSummary;
      inFlight++;
      const t0 = performance.now();
      let result: ValidationResult;
      try {
        result = await one(d, summary, timeoutMs, gate, opts.signal);
      } catch (e) {
        if (isStopError(e)) stopped ??= toErrorShape(e);
        result = { credential: summary, recorded: false, skipped: toErrorShape(e), durationMs: 0 };
      }
      result.durationMs = Math.round(performance.now() - t0);
      results[index] = result;
      inFlight--;
      done++;
      if (opts.signal?.aborted && stopped === null)
        stopped = {
          code: 'CANCELLED',
          message: 'The validation run was cancelled; credentials not yet checked keep their previous status.'
        };
      emit({
        id: summary.id,
        name: summary.name,
        provider: summary.provider,
        status: result.recorded ? result.credential.status : 'skipped',
        errorCode: result.recorded ? (result.credential.lastError?.code ?? null) : (result.skipped?.code ?? null)
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));

  // Credentials never started (the run stopped early) are reported as skipped, with the reason.
  for (let i = 0; i < list.length; i++) {
    if (!results[i])
      results[i] = {
        credential: list[i] as CredentialSummary,
        recorded: false,
        skipped: stopped ?? { code: 'INTERNAL', message: 'Not checked.' },
        durationMs: 0
      };
  }
  return { runId, results, summary: summarize(results), stopped, durationMs: Math.round(performance.now() - started) };
}

async function one(
  d: ValidationDeps,
  summary: CredentialSummary,
  timeoutMs: number,
  gate: RetryAfterGate,
  signal: AbortSignal | undefined,
  candidate?: CredentialMaterial
): Promise<ValidationResult & { outcome?: ValidationOutcome }> {
  if (signal?.aborted)
    return {
      credential: summary,
      recorded: false,
      skipped: { code: 'CANCELLED', message: 'Not checked: the run was cancelled.' },
      durationMs: 0
    };
  const spec = d.registry.specOrNull(summary.provider);
  if (!spec) {
    return {
      credential: summary,
      recorded: false,
      skipped: { code: 'UNSUPPORTED', message: `Provider ${summary.provider} is not known to this version of Keydesk.` },
      durationMs: 0
    };
  }
  // OAuth modes (the generic provider's included) are checked by a token refresh, never judged here.
  if (spec.modes.find((m) => m.id === summary.mode)?.oauth) {
    return {
      credential: summary,
      recorded: false,
      skipped: {
        code: 'UNSUPPORTED',
        message: `${summary.provider}/${summary.mode} is an OAuth credential: a token refresh checks it (keydesk refresh ${summary.name}).`
      },
      durationMs: 0
    };
  }
  let plugin: ValidationPlugin;
  try {
    plugin = await d.registry.validator(summary.provider);
  } catch (e) {
    return { credential: summary, recorded: false, skipped: toErrorShape(e), durationMs: 0 };
  }
  if (plugin.validates && !plugin.validates.includes(summary.mode)) {
    return {
      credential: summary,
      recorded: false,
      skipped: { code: 'UNSUPPORTED', message: `${summary.provider}/${summary.mode} credentials cannot be validated yet.` },
      durationMs: 0
    };
  }

  let material: CredentialMaterial;
  try {
    material = candidate ?? d.credentials.material(summary.id);
  } catch (e) {
    if (e instanceof KeydeskError && UNUSABLE.has(e.code))
      return record(d, summary, { status: 'failed', error: { code: e.code, message: e.message } }, makeScrubber([]));
    throw e;
  }
  const call = openCall(d.calls, { secrets: Object.values(material.secrets), timeoutMs, gate, ...(signal ? { signal } : {}) });
  let raw: ValidationOutcome;
  try {
    raw = await plugin.validate({ credential: material, http: call.http, timeoutMs, signal: call.signal, clock: d.clock });
  } catch (e) {
    raw = outcomeFromThrown(e);
  }
  if (signal?.aborted)
    return {
      credential: summary,
      recorded: false,
      skipped: { code: 'CANCELLED', message: 'Not recorded: the run was cancelled while this credential was being checked.' },
      durationMs: 0
    };
  if (candidate)
    return { credential: summary, recorded: false, skipped: null, durationMs: 0, outcome: sanitizeOutcome(raw, call.scrubber) };
  return record(d, summary, raw, call.scrubber);
}

/**
 * Guided rotation's order: asks the provider whether `candidate` (the credential with new secret values, not stored)
 * works, exactly as a validation would; only if it does, `store` writes the new values, and the result is recorded
 * on the stored credential. A rejected (or unanswered) candidate changes nothing.
 */
export async function proveThenStore(
  d: ValidationDeps,
  summary: CredentialSummary,
  candidate: CredentialMaterial,
  store: () => CredentialSummary
): Promise<ValidationResult> {
  const r = await one(d, summary, d.timeoutMs, new RetryAfterGate(), undefined, candidate);
  if (r.skipped) throw new KeydeskError(r.skipped.code, r.skipped.message);
  const outcome = r.outcome!;
  if (outcome.status !== 'ok') {
    const why = outcome.error ? `${outcome.error.code}: ${outcome.error.message}` : outcome.status;
    throw new KeydeskError(
      outcome.status === 'unknown' ? 'PROVIDER_UNREACHABLE' : 'PROVIDER_REJECTED',
      `The new secret did not validate (${why}). Nothing was changed: "${printable(summary.name)}" keeps its current secret.`
    );
  }
  return recordClean(d, store(), outcome);
}

function record(d: ValidationDeps, summary: CredentialSummary, raw: ValidationOutcome, scrubber: Scrubber): ValidationResult {
  return recordClean(d, summary, sanitizeOutcome(raw, scrubber));
}

function recordClean(d: ValidationDeps, summary: CredentialSummary, sanitized: ValidationOutcome): ValidationResult {
  const now = d.clock.now();
  const clean = reconcileWithKnownExpiry(sanitized, summary.expiresAt, now);
  const credential = d.credentials.recordHealth(summary.id, {
    status: clean.status,
    lastError: clean.error,
    checkedAt: now.toISOString(),
    ...(clean.expiresAt !== undefined ? { expiresAt: clean.expiresAt, expirySource: 'provider' as const } : {}),
    ...(clean.observed ? { observed: clean.observed as Record<string, unknown> } : {})
  });
  return { credential, recorded: true, skipped: null, durationMs: 0 };
}
