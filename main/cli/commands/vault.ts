import type { Command } from '../program.ts';
import { resolve } from 'node:path';
import { createApp, restoreApp } from '../../app.ts';
import { writeBackup } from '../../vault/backup.ts';
import { KeydeskError } from '../../errors.ts';
import type { RotationStage } from '../../vault/vault.ts';
import type { CliContext } from '../context.ts';
import { keyValues } from '../format.ts';
import { passphraseFrom } from '../io.ts';

export function registerVaultCommands(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('create a new vault (its key in the OS keychain, or derived from a passphrase)')
    .option('--key-source <source>', 'keychain | passphrase', 'keychain')
    .action(async (opts: { keySource: string }, cmd: Command) => {
      if (opts.keySource !== 'keychain' && opts.keySource !== 'passphrase') {
        throw new KeydeskError('INPUT_INVALID', '--key-source is keychain or passphrase.');
      }
      const config = ctx.config(cmd);
      const app = ctx.track(
        await createApp(
          config,
          opts.keySource,
          opts.keySource === 'passphrase' ? passphraseFrom(ctx.io, { question: 'New vault passphrase: ', confirm: true }) : undefined
        )
      );
      const info = app.vault.info();
      ctx.print(
        cmd,
        { vault: info },
        () =>
          `Created vault ${info.path}\nkey source: ${info.keySource}${info.keySource === 'keychain' ? ' (key stored in the OS keychain)' : ' (scrypt)'}\n`
      );
    });

  program
    .command('backup')
    .argument('<file>', 'where to write it (a file that does not exist yet)')
    .description('write an encrypted backup of the whole vault (its own passphrase: KEYDESK_BACKUP_PASSPHRASE or a prompt)')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const app = await ctx.open(cmd);
      await ctx.unlock(app, 'backup');
      const r = await writeBackup(
        app.vault,
        resolve(file),
        passphraseFrom(ctx.io, { envVar: 'KEYDESK_BACKUP_PASSPHRASE', question: 'Backup passphrase: ', confirm: true })
      );
      ctx.print(
        cmd,
        { backup: r },
        () =>
          `Backed up ${r.credentials} credentials and ${r.auditEntries} audit entries to ${r.file} (${r.kdf}, AES-256-GCM).\nKeep the backup passphrase apart from the file: without it nothing in the file can be read.\n`
      );
    });

  program
    .command('restore')
    .argument('<file>', 'a backup written by keydesk backup')
    .description('restore a backup as a new vault at --vault (nothing may be there), with a fresh key on this machine')
    .option('--key-source <source>', 'the new vault’s key: keychain | passphrase (KEYDESK_PASSPHRASE or a prompt)', 'keychain')
    .action(async (file: string, opts: { keySource: string }, cmd: Command) => {
      if (opts.keySource !== 'keychain' && opts.keySource !== 'passphrase')
        throw new KeydeskError('INPUT_INVALID', '--key-source is keychain or passphrase.');
      const config = ctx.config(cmd);
      const { app, report } = await restoreApp(
        config,
        resolve(file),
        passphraseFrom(ctx.io, { envVar: 'KEYDESK_BACKUP_PASSPHRASE', question: 'Backup passphrase: ' }),
        opts.keySource,
        opts.keySource === 'passphrase' ? passphraseFrom(ctx.io, { question: 'New vault passphrase: ', confirm: true }) : undefined
      );
      ctx.track(app);
      ctx.print(
        cmd,
        { restore: { ...report, vault: app.vault.info() } },
        () =>
          `Restored ${report.credentials} credentials and ${report.auditEntries} audit entries from the backup of vault ${report.sourceVaultId} made ${report.backupCreatedAt},\nas a new vault at ${config.vaultPath} (key source: ${opts.keySource}). The restore is the newest audit entry; keydesk audit verify checks the chain.\n`
      );
    });

  program
    .command('status')
    .description('show the vault: where it is, its key source and counts (no key needed)')
    .action((_opts: unknown, cmd: Command) => {
      const app = ctx.inspect(cmd);
      const info = app.vault.info();
      ctx.print(cmd, { vault: info }, () =>
        keyValues([
          ['vault', info.path],
          ['vault id', info.vaultId],
          ['created', info.createdAt],
          ['key source', info.keySource],
          ['key version', String(info.kekVersion)],
          ['schema version', String(info.schemaVersion)],
          ['credentials', String(info.credentials)],
          ['audit entries', String(info.auditEntries)]
        ])
      );
    });

  program
    .command('check')
    .description('decrypt every credential and report any that fail authentication (needs the key)')
    .action(async (_opts: unknown, cmd: Command) => {
      const app = await ctx.open(cmd);
      await ctx.unlock(app, 'check');
      const report = app.credentials.check();
      ctx.print(cmd, report, () =>
        report.failures.length === 0
          ? `OK: ${report.checked} credential${report.checked === 1 ? '' : 's'} decrypted and authenticated.\n`
          : `${report.failures.map((f) => `FAILED ${f.name} (${f.id}): ${f.message} [${f.code}]`).join('\n')}\n${report.failures.length} of ${report.checked} credentials failed.\n`
      );
      if (report.failures.length > 0) ctx.exitCode = 1;
    });

  program
    .command('rotate-key')
    .description('rotate the key-encryption key: a new keychain key, or a new salt (same passphrase) / --change-passphrase')
    .option('--change-passphrase', 'passphrase vaults: set a new passphrase (KEYDESK_NEW_PASSPHRASE or a prompt)')
    .action(async (opts: { changePassphrase?: boolean }, cmd: Command) => {
      const app = await ctx.open(cmd);
      const passphrase = passphraseFrom(ctx.io);
      await app.vault.unlock({ passphrase });
      const showProgress = ctx.io.isTTY && !ctx.json(cmd);
      const onStage = (s: RotationStage) => {
        if (showProgress && s.stage === 'rewrapped' && (s.done === s.total || s.done % 50 === 0))
          ctx.io.stderr(`\rre-wrapping keys: ${s.done}/${s.total}`);
        if (showProgress && s.stage === 'committed') ctx.io.stderr('\n');
      };
      const result = await app.vault.rotateKey({
        passphrase,
        onStage,
        ...(opts.changePassphrase
          ? { newPassphrase: passphraseFrom(ctx.io, { envVar: 'KEYDESK_NEW_PASSPHRASE', question: 'New passphrase: ', confirm: true }) }
          : {})
      });
      ctx.print(
        cmd,
        result,
        () =>
          `Rotated the vault key to version ${result.kekVersion}; re-wrapped ${result.rewrapped} credential key${result.rewrapped === 1 ? '' : 's'}.\n`
      );
    });
}
