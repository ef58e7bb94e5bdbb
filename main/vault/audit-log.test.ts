import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, openApp } from '../app.ts';
import { SAMPLE, keychainVault, passphraseVault, tempDir, type TempVault } from '../testing/fixtures.ts';
import { osKeychain, type KeychainClient } from './keychain.ts';
import { canonicalJson } from './audit-log.ts';
import { canonical, hmac } from './crypto.ts';

const vaults: TempVault[] = [];
const raws: Database.Database[] = [];
afterEach(async () => {
  for (const r of raws.splice(0)) r.close();
  for (const v of vaults.splice(0)) await v.cleanup();
});

/** A vault with 6 audit entries: init, 3 adds, a rename, a remove. */
async function history(): Promise<{ v: TempVault; raw: Database.Database }> {
  const v = await keychainVault();
  vaults.push(v);
  v.app.credentials.add({ name: 'one', ...SAMPLE.hostinger() });
  v.app.credentials.add({ name: 'two', ...SAMPLE.hostinger() });
  v.app.credentials.add({ name: 'three', ...SAMPLE.hostinger() });
  v.app.credentials.rename('two', 'deux');
  v.app.credentials.remove('three');
  const raw = new Database(v.path);
  raws.push(raw);
  return { v, raw };
}

describe('audit chain', () => {
  it('records every mutation with who, what, which credential and outcome, and verifies', async () => {
    const { v } = await history();
    const entries = v.app.audit.list();
    expect(entries.map((e) => [e.seq, e.action, e.credentialName, e.outcome])).toEqual([
      [1, 'vault.init', null, 'ok'],
      [2, 'credential.add', 'one', 'ok'],
      [3, 'credential.add', 'two', 'ok'],
      [4, 'credential.add', 'three', 'ok'],
      [5, 'credential.rename', 'deux', 'ok'],
      [6, 'credential.remove', 'three', 'ok']
    ]);
    expect(entries.every((e) => e.actor === 'analyst:test (test)')).toBe(true);
    expect(await v.app.audit.verify()).toEqual({ ok: true, entries: 6, headSeq: 6, anchor: null });
  });

  it('names the first edited entry', async () => {
    const { v, raw } = await history();
    raw.prepare("UPDATE audit_log SET outcome = 'error' WHERE seq = 4").run();
    raw.prepare("UPDATE audit_log SET actor = 'someone else' WHERE seq = 5").run();
    expect(await v.app.audit.verify()).toMatchObject({ ok: false, firstBadSeq: 4, problem: 'edited' });
  });

  it('names a removed entry', async () => {
    const { v, raw } = await history();
    raw.prepare('DELETE FROM audit_log WHERE seq = 3').run();
    expect(await v.app.audit.verify()).toMatchObject({
      ok: false,
      firstBadSeq: 3,
      problem: 'removed',
      message: expect.stringContaining('entry 3 is missing')
    });
  });

  it('names a removal hidden by renumbering as an edit at that point', async () => {
    const { v, raw } = await history();
    raw.prepare('DELETE FROM audit_log WHERE seq = 3').run();
    raw.prepare('UPDATE audit_log SET seq = seq - 1 WHERE seq > 3').run();
    expect(await v.app.audit.verify()).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'edited' });
  });

  it('names reordered entries', async () => {
    const { v, raw } = await history();
    raw.prepare('UPDATE audit_log SET seq = 100 WHERE seq = 3').run();
    raw.prepare('UPDATE audit_log SET seq = 3 WHERE seq = 4').run();
    raw.prepare('UPDATE audit_log SET seq = 4 WHERE seq = 100').run();
    expect(await v.app.audit.verify()).toMatchObject({ ok: false, firstBadSeq: 3, problem: 'reordered' });
  });

  it('with the keychain anchor, detects a cut-off tail and a rolled-back vault file', async () => {
    const { v, raw } = await history();
    const backup = `${v.path}.bak`;
    raw.pragma('wal_checkpoint(TRUNCATE)');
    copyFileSync(v.path, backup);
    v.app.credentials.add({ name: 'four', ...SAMPLE.hostinger() });
    expect(await v.app.audit.anchor()).toMatchObject({ seq: 7 });
    expect(await v.app.audit.verify()).toMatchObject({ ok: true, anchor: { seq: 7 } });

    raw.prepare('DELETE FROM audit_log WHERE seq = 7').run();
    expect(await v.app.audit.verify()).toMatchObject({ ok: false, problem: 'truncated', firstBadSeq: 7 });

    // Roll the whole file back to the backup: caught, and the rolled-back file takes no write — neither a new entry 7
    // nor a new anchor, which would hide the rollback and condemn the genuine file.
    await v.app.close();
    raw.close();
    raws.length = 0;
    copyFileSync(backup, v.path);
    const rolled = v.reopen();
    await rolled.vault.unlock();
    expect(await rolled.audit.verify()).toMatchObject({ ok: false, problem: 'truncated', firstBadSeq: 7 });
    expect(() => rolled.credentials.add({ name: 'other', ...SAMPLE.hostinger() })).toThrow(
      expect.objectContaining({
        code: 'AUDIT_TAMPERED',
        message: expect.stringContaining('ends before entry 7, anchored in the OS keychain')
      })
    );
    expect(rolled.audit.headSeq()).toBe(6);
    expect(rolled.credentials.list().map((c) => c.name)).not.toContain('other');
    await expect(rolled.audit.anchor()).rejects.toMatchObject({ code: 'AUDIT_TAMPERED' });
    expect(await rolled.audit.readAnchor()).toMatchObject({ seq: 7 });
  });

  it('canonical JSON sorts keys so equal details MAC the same', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } })).toBe('{"a":{"c":null,"d":[1,"x"]},"b":1}');
  });
});

describe('the keychain anchor with two processes', () => {
  it('security: a process anchoring an older head never lowers the anchor another process just raised', async () => {
    const { dir, cleanup } = tempDir();
    const vaultPath = join(dir, 'vault.sqlite');
    const real = osKeychain();
    // Between this process's read of the anchor and its write, another process appends and anchors a later head.
    let meanwhile: (() => Promise<void>) | null = null;
    const keychain: KeychainClient = {
      get: (a) => real.get(a),
      delete: (a) => real.delete(a),
      set: async (a, value) => {
        const other = a.endsWith('/audit-head') ? meanwhile : null;
        meanwhile = null;
        if (other) await other();
        return real.set(a, value);
      }
    };
    const app = await createApp({ vaultPath, actor: 'analyst:test (test)', keychain }, 'keychain');
    try {
      app.credentials.add({ name: 'one', ...SAMPLE.hostinger() }); // head 2
      meanwhile = async () => {
        const other = openApp({ vaultPath });
        await other.vault.unlock();
        other.credentials.add({ name: 'two', ...SAMPLE.hostinger() }); // head 3
        expect(await other.audit.anchor()).toMatchObject({ seq: 3 });
        await other.close();
      };
      expect(await app.audit.anchor()).toMatchObject({ seq: 3 });
      expect(await app.audit.readAnchor()).toMatchObject({ seq: 3 });
      // So cutting entry 3 off is still caught.
      const raw = new Database(vaultPath);
      raw.prepare('DELETE FROM audit_log WHERE seq = 3').run();
      raw.close();
      expect(await app.audit.verify()).toMatchObject({ ok: false, problem: 'truncated', firstBadSeq: 3 });
    } finally {
      await app.close();
      cleanup();
    }
  });

  it('a legitimate writer that appends and anchors while verify runs never makes it report "truncated"', async () => {
    const { dir, cleanup } = tempDir();
    const vaultPath = join(dir, 'vault.sqlite');
    const real = osKeychain();
    let meanwhile: (() => Promise<void>) | null = null;
    const keychain: KeychainClient = {
      // Just as verify asks the keychain for the anchor, another process writes entry 3 and anchors it.
      get: async (a) => {
        const other = a.endsWith('/audit-head') ? meanwhile : null;
        meanwhile = null;
        if (other) await other();
        return real.get(a);
      },
      delete: (a) => real.delete(a),
      set: (a, v) => real.set(a, v)
    };
    const app = await createApp({ vaultPath, actor: 'analyst:test (test)', keychain }, 'keychain');
    try {
      app.credentials.add({ name: 'one', ...SAMPLE.hostinger() });
      meanwhile = async () => {
        const other = openApp({ vaultPath });
        await other.vault.unlock();
        other.credentials.add({ name: 'two', ...SAMPLE.hostinger() });
        await other.close(); // anchors entry 3
      };
      expect(await app.audit.verify()).toMatchObject({ ok: true, entries: 3, anchor: { seq: 3 } });
    } finally {
      await app.close();
      cleanup();
    }
  });
});

describe('the head record: every vault, the passphrase ones included', () => {
  const PASS = 'correct horse battery staple';
  /** A passphrase vault with 6 entries, and its file opened raw (a local attacker with the file and no passphrase). */
  async function passphraseHistory(): Promise<{ v: TempVault; raw: Database.Database }> {
    const v = await passphraseVault(PASS);
    vaults.push(v);
    for (const name of ['one', 'two', 'three', 'four', 'five']) v.app.credentials.add({ name, ...SAMPLE.hostinger() });
    const raw = new Database(v.path);
    raws.push(raw);
    return { v, raw };
  }

  it('cutting off the last entries is caught by verify, naming where, and refused by the next write', async () => {
    const { v, raw } = await passphraseHistory();
    expect(await v.app.audit.verify()).toMatchObject({ ok: true, headSeq: 6, anchor: null });
    raw.prepare('DELETE FROM audit_log WHERE seq >= 5').run();
    expect(await v.app.audit.verify()).toMatchObject({
      ok: false,
      problem: 'truncated',
      firstBadSeq: 5,
      message: expect.stringContaining('names entry 6, but the log ends at 4')
    });
    expect(() => v.app.credentials.add({ name: 'six', ...SAMPLE.hostinger() })).toThrow(
      expect.objectContaining({ code: 'AUDIT_TAMPERED' })
    );
    expect(v.app.credentials.list().map((c) => c.name)).not.toContain('six');
  });

  it('deleting the last entry alone, and putting back an older copy of the log table, are caught', async () => {
    const { v, raw } = await passphraseHistory();
    raw.prepare('DELETE FROM audit_log WHERE seq = 6').run();
    expect(await v.app.audit.verify()).toMatchObject({ ok: false, problem: 'truncated', firstBadSeq: 6 });

    const { v: w, raw: r2 } = await passphraseHistory();
    r2.exec('CREATE TABLE old_log AS SELECT * FROM audit_log');
    w.app.credentials.rename('one', 'uno');
    w.app.credentials.remove('two');
    // The log table rolled back to the copy taken two changes ago, head record and all rows consistent with each other.
    r2.exec('DELETE FROM audit_log; INSERT INTO audit_log SELECT * FROM old_log; DROP TABLE old_log;');
    expect(await w.app.audit.verify()).toMatchObject({
      ok: false,
      problem: 'truncated',
      firstBadSeq: 7,
      message: expect.stringContaining('names entry 8, but the log ends at 6')
    });
  });

  it('a head record edited, rolled back or deleted in the file is caught', async () => {
    const { v, raw } = await passphraseHistory();
    const head = raw.prepare('SELECT seq, mac, tag FROM audit_head').get() as { seq: number; mac: Buffer; tag: Buffer };
    raw.prepare('UPDATE audit_head SET seq = 5').run();
    expect(await v.app.audit.verify()).toMatchObject({ ok: false, message: expect.stringContaining('head record was edited') });
    raw.prepare('UPDATE audit_head SET seq = ?').run(head.seq);
    expect(await v.app.audit.verify()).toMatchObject({ ok: true });
    v.app.credentials.add({ name: 'six', ...SAMPLE.hostinger() });
    raw.prepare('UPDATE audit_head SET seq = ?, mac = ?, tag = ?').run(head.seq, head.mac, head.tag); // its genuine older copy
    expect(await v.app.audit.verify()).toMatchObject({
      ok: false,
      firstBadSeq: 7,
      message: expect.stringContaining('past its head record at 6 (the head record was rolled back)')
    });
    raw.prepare('DELETE FROM audit_head').run();
    expect(await v.app.audit.verify()).toMatchObject({ ok: false, message: expect.stringContaining('head record is missing') });
  });

  it('a vault from before the head record gets one at the upgrade, tagged by its first write', async () => {
    const { v, raw } = await passphraseHistory();
    // As schema version 5 left it: no audit_head table (nor the later secret_version column), and a vault.init that
    // says nothing of a head record — the chain re-MACed as the version-5 code MACed it.
    const key = v.app.vault.vaultKey('audit_mac');
    await v.app.close();
    raw.exec('DROP TABLE audit_head; ALTER TABLE credentials DROP COLUMN secret_version;');
    raw.prepare("UPDATE audit_log SET detail = json_remove(detail, '$.audit_head') WHERE seq = 1").run();
    let prev: Buffer = Buffer.alloc(32);
    type Row = {
      seq: number;
      at: string;
      actor: string;
      action: string;
      credential_id: string | null;
      credential_name: string | null;
      outcome: string;
      detail: string;
    };
    for (const r of raw.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Row[]) {
      const mac = hmac(
        key,
        prev,
        canonical('keydesk/v1/audit', r.at, r.actor, r.action, r.credential_id, r.credential_name, r.outcome, r.detail)
      );
      raw.prepare('UPDATE audit_log SET mac = ? WHERE seq = ?').run(mac, r.seq);
      prev = mac;
    }
    raw.pragma('user_version = 5');
    raw.close();
    raws.length = 0;
    const upgraded = v.reopen();
    await upgraded.vault.unlock({ passphrase: () => Promise.resolve(PASS) });
    expect(await upgraded.audit.verify()).toMatchObject({ ok: true, headSeq: 6 });
    upgraded.credentials.add({ name: 'six', ...SAMPLE.hostinger() });
    // The first write since the upgrade records that the head is tagged from here on, then the add.
    expect(
      upgraded.audit
        .list()
        .slice(-2)
        .map((e) => e.action)
    ).toEqual(['audit.head_anchored', 'credential.add']);
    const check = new Database(v.path);
    raws.push(check);
    expect(check.prepare('SELECT seq, tag IS NOT NULL AS tagged FROM audit_head').get()).toEqual({ seq: 8, tagged: 1 });
    check.prepare('DELETE FROM audit_log WHERE seq = 8').run();
    expect(await upgraded.audit.verify()).toMatchObject({ ok: false, problem: 'truncated', firstBadSeq: 8 });
    // An untagged record passes no more, even one matching the cut log: the log says the head was tagged.
    check.prepare('UPDATE audit_head SET seq = 7, mac = (SELECT mac FROM audit_log WHERE seq = 7), tag = NULL').run();
    expect(await upgraded.audit.verify()).toMatchObject({ ok: false, message: expect.stringContaining('lost its tag') });
  });

  it('a forged untagged head record over a cut log is caught in a vault created with the head record', async () => {
    const { v, raw } = await passphraseHistory();
    expect(v.app.audit.list()[0]).toMatchObject({ action: 'vault.init', detail: { audit_head: true } });
    raw.prepare('DELETE FROM audit_log WHERE seq >= 5').run();
    raw.prepare('UPDATE audit_head SET seq = 4, mac = (SELECT mac FROM audit_log WHERE seq = 4), tag = NULL').run();
    expect(await v.app.audit.verify()).toMatchObject({ ok: false, message: expect.stringContaining('lost its tag') });
    expect(() => v.app.credentials.add({ name: 'six', ...SAMPLE.hostinger() })).toThrow(
      expect.objectContaining({ code: 'AUDIT_TAMPERED' })
    );
  });
});
