import type { Clock } from '../clock.ts';

export interface ScheduledTask {
  name: string;
  /** How often it runs. */
  everyMs: number;
  /** Tasks that use a secret (refreshing tokens, validating) are skipped while the vault is locked. */
  needsUnlock: boolean;
  /** Delay before its first run, from the scheduler's start (default: one interval). */
  firstAfterMs?: number;
  run(): Promise<void> | void;
}

export interface SchedulerDeps {
  clock: Clock;
  isUnlocked(): boolean;
  /** A secret-free line when a task fails (its name and error class). */
  log?: (line: string) => void;
}

export interface Scheduler {
  add(task: ScheduledTask): void;
  /** Runs every due task once (call it from a timer every few seconds). Returns the names that ran. */
  tick(): Promise<string[]>;
  /** Names skipped at the last tick because the vault was locked. */
  readonly waitingForUnlock: readonly string[];
}

/**
 * The background scheduler: clock-injected and timer-free, so tests move time instead of waiting. A task never
 * overlaps itself; a task that needs a secret waits while the vault is locked and runs at the first tick after
 * unlock; a failing task is logged and tried again at its next interval.
 */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const start = deps.clock.now().getTime();
  const entries: { task: ScheduledTask; nextAt: number; running: boolean }[] = [];
  let waiting: string[] = [];
  return {
    add(task) {
      if (!(task.everyMs > 0)) throw new RangeError(`task ${task.name}: everyMs must be positive`);
      entries.push({ task, nextAt: start + (task.firstAfterMs ?? task.everyMs), running: false });
    },
    get waitingForUnlock() {
      return waiting;
    },
    async tick() {
      const now = deps.clock.now().getTime();
      const ran: string[] = [];
      const skipped: string[] = [];
      const runs: Promise<void>[] = [];
      for (const e of entries) {
        if (e.running || now < e.nextAt) continue;
        if (e.task.needsUnlock && !deps.isUnlocked()) {
          skipped.push(e.task.name);
          continue;
        }
        e.running = true;
        e.nextAt = now + e.task.everyMs;
        ran.push(e.task.name);
        runs.push(
          (async () => {
            try {
              await e.task.run();
            } catch (err) {
              deps.log?.(`scheduled task ${e.task.name} failed: ${err instanceof Error ? err.name : typeof err}`);
            } finally {
              e.running = false;
            }
          })()
        );
      }
      waiting = skipped;
      await Promise.all(runs);
      return ran;
    }
  };
}
