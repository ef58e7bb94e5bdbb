import type { ValidationRunView } from '../../../preload/contract.ts';
import { messageOf } from '../api/client.ts';
import { useValidationProgress } from '../api/events.ts';
import { useCancelValidation, useValidateAll } from '../api/queries.ts';
import { Notice } from './Notice.tsx';

function summary(r: ValidationRunView): string {
  const parts = [`${r.ok} ok`, `${r.failed} failed`, `${r.expired} expired`, `${r.unknown} unknown`];
  if (r.skipped) parts.push(`${r.skipped} not checked`);
  return `Checked ${r.total - r.skipped} of ${r.total}: ${parts.join(', ')}.`;
}

/** "Validate all", with live progress from validation.progress events and a way to stop it. */
export function ValidateAll() {
  const run = useValidateAll();
  const cancel = useCancelValidation();
  const progress = useValidationProgress();
  const live = run.isPending && progress && !progress.finished ? progress : null;
  return (
    <div className="validate-all">
      {run.isPending ? (
        <div className="progress-row" role="status">
          <label htmlFor="validate-progress">{live ? `Checking… ${live.done} of ${live.total} done` : 'Checking…'}</label>
          <progress id="validate-progress" max={live?.total ?? 1} value={live?.done ?? 0} />
          <button type="button" onClick={() => cancel.mutate()}>
            Stop
          </button>
        </div>
      ) : (
        <button type="button" onClick={() => run.mutate()}>
          Validate all
        </button>
      )}
      <div aria-live="polite">
        {run.data ? (
          <Notice kind={run.data.failed + run.data.expired > 0 || run.data.stopped ? 'warning' : 'success'}>
            {summary(run.data)}
            {run.data.stopped ? ` Stopped: ${run.data.stopped.message}` : ''}
          </Notice>
        ) : null}
        {run.error ? <Notice kind="error">{messageOf(run.error)}</Notice> : null}
      </div>
    </div>
  );
}
