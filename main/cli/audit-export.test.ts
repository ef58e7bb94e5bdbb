// keydesk audit export: JSON lines and RFC 5424 syslog for a SIEM, --after, --follow (a live child process taking a
// Ctrl-C), and a reader that goes away early (`| head`) ending it quietly.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { syslogLine } from '../audit/syslog.ts';
import { ROOT, runCli, spawnCliLive } from '../testing/cli.ts';
import { SAMPLE, keychainVault, type TempVault } from '../testing/fixtures.ts';

const vaults: TempVault[] = [];
afterEach(async () => {
  for (const v of vaults.splice(0)) await v.cleanup();
});

async function vault(): Promise<TempVault> {
  const v = await keychainVault();
  vaults.push(v);
  v.app.credentials.add({ name: 'Hostinger prod', ...SAMPLE.hostinger() });
  return v;
}

/** RFC 5424: HEADER SP STRUCTURED-DATA SP MSG, HEADER = <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID. */
const RFC5424 =
  /^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z) ([\x21-\x7e]{1,255}) keydesk - ([\x21-\x7e]{1,32}) (\[keydesk@32473(?: [a-zA-Z]+="(?:[^"\\\]]|\\.)*")+\]) (.*)$/;

describe('syslog lines (RFC 5424)', () => {
  const entry = {
    seq: 7,
    at: '2026-12-04T10:00:00.123Z',
    actor: 'analyst:ana',
    action: 'credential.rename',
    credentialId: 'c1',
    credentialName: 'evil"] \u001b[2J\nname',
    outcome: 'denied' as const,
    detail: { to: 'x\u2028y' },
    mac: 'ab'.repeat(32)
  };

  it('facility log audit, severity from the outcome, the action as MSGID, fields escaped and printable', () => {
    const line = syslogLine(entry, 'soc laptop');
    const m = RFC5424.exec(line);
    expect(m, line).not.toBeNull();
    expect(Number(m![1])).toBe(13 * 8 + 5); // log audit, notice
    expect(m![3]).toBe('soc_laptop');
    expect(m![4]).toBe('credential.rename');
    expect(m![5]).toContain('credential="evil\\"\\] \\u001b[2J\\u000aname"');
    // eslint-disable-next-line no-control-regex -- no control character may reach the line
    expect(line).not.toMatch(/[\u0000-\u001f\u007f\u2028]/);
    expect(syslogLine({ ...entry, outcome: 'ok' }, 'h').startsWith('<110>1 ')).toBe(true);
    expect(syslogLine({ ...entry, outcome: 'error' }, 'h').startsWith('<107>1 ')).toBe(true);
  });
});

describe('keydesk audit export', () => {
  it('--format syslog prints one RFC 5424 line per entry; a name edited into the file reaches no terminal raw', async () => {
    const v = await vault();
    await v.app.close();
    const raw = new Database(v.path);
    raw.prepare("UPDATE audit_log SET credential_name = ? WHERE action = 'credential.add'").run('Hostinger \u001b]0;owned\u0007prod');
    raw.close();
    const r = await runCli(['--vault', v.path, 'audit', 'export', '--format', 'syslog']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => RFC5424.exec(l)?.[4])).toEqual(['vault.init', 'credential.add']);
    // eslint-disable-next-line no-control-regex -- no control character but the newlines may reach the terminal
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    const jsonl = await runCli(['--vault', v.path, 'audit', 'export', '--after', '1']);
    expect(
      jsonl.stdout
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { action: string }).action)
    ).toEqual(['credential.add']);
  });

  it('refuses a format or a sequence number it does not know, with INPUT_INVALID, printing nothing', async () => {
    const v = await vault();
    await v.app.close();
    for (const args of [
      ['--format', 'xml'],
      ['--after', '-1'],
      ['--after', 'ten']
    ]) {
      const r = await runCli(['--vault', v.path, '--json', 'audit', 'export', ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.json<{ error: { code: string } }>().error.code).toBe('INPUT_INVALID');
    }
  });

  it('--follow prints what another process writes as it commits, and Ctrl-C ends it cleanly', async () => {
    const v = await vault();
    const c = spawnCliLive(['--vault', v.path, 'audit', 'export', '--follow', '--format', 'syslog']);
    try {
      await c.waitFor(/ credential\.add \[/);
      v.app.credentials.rename('Hostinger prod', 'Hostinger production');
      await c.waitFor(/ credential\.rename \[.*credential="Hostinger production"/);
      v.app.credentials.remove('Hostinger production');
      await c.waitFor(/ credential\.remove \[/);
      expect(c.lines.map((l) => RFC5424.exec(l)?.[4])).toEqual(['vault.init', 'credential.add', 'credential.rename', 'credential.remove']);
    } finally {
      c.proc.kill('SIGINT');
    }
    expect(await c.exit).toBe(0);
    expect(c.stderr()).toBe('');
  });

  it('a reader that stops early (| head -1) ends it quietly: no EPIPE stack trace', async () => {
    const v = await vault();
    const names = ['Hostinger prod', 'Hostinger production'];
    for (let i = 0; i < 600; i++) v.app.credentials.rename(names[i % 2]!, names[(i + 1) % 2]!);
    await v.app.close();
    const bin = resolve(ROOT, 'bin/keydesk.js');
    const r = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${bin}" --vault "${v.path}" audit export | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`],
      {
        encoding: 'utf8',
        cwd: ROOT
      }
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('0');
  });
});
