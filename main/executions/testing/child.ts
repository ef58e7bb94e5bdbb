// Test child (never imported by the app): another Keydesk process on the same vault.
//   node main/executions/testing/child.ts VAULT run JSON     runs a capability (JSON = RunRequestInput); prints "claimed" first
//   node main/executions/testing/child.ts VAULT resume REF   prints "ready", waits for a line on stdin, resumes REF's waiting runs
//   node main/executions/testing/child.ts VAULT revert ID     reverts a run
// Prints one JSON line with the outcome last.
import { createInterface } from 'node:readline';
import { openApp } from '../../app.ts';

const [vaultPath, command, arg = ''] = process.argv.slice(2);
if (!vaultPath || !command) throw new Error('usage: child.ts VAULT run JSON | resume REF');
const app = openApp({ vaultPath, actor: `analyst:child-${process.pid} (test)` });
await app.vault.unlock();
try {
  if (command === 'run') {
    app.vault.events.on('execution.changed', (e) => {
      if (e.status === 'running') process.stdout.write('claimed\n');
    });
    const view = await app.executions.run(JSON.parse(arg) as never);
    process.stdout.write(`${JSON.stringify({ id: view.id, status: view.status })}\n`);
  } else if (command === 'revert') {
    const view = await app.executions.revert(arg);
    process.stdout.write(`${JSON.stringify({ id: view.id, status: view.status })}\n`);
  } else if (command === 'resume') {
    process.stdout.write('ready\n');
    const rl = createInterface({ input: process.stdin });
    await new Promise((r) => rl.once('line', r));
    rl.close();
    const report = await app.executions.resumeWaiting(arg);
    process.stdout.write(
      `${JSON.stringify({ resumed: report.resumed.map((v) => ({ id: v.id, status: v.status })), claimedElsewhere: report.claimedElsewhere })}\n`
    );
  } else {
    throw new Error(`unknown command ${command}`);
  }
} finally {
  await app.close();
}
