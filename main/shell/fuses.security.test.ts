import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FuseState, FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { afterEach, describe, expect, it } from 'vitest';
import afterPack from '../../build/after-pack.mjs';
import { FUSES, electronBinaryPath } from '../../build/fuses.mjs';
import builderConfig from '../../build/electron-builder.config.mjs';

// Guards: "Electron fuses switch off RunAsNode, NODE_OPTIONS and --inspect in packaged builds".
// The Electron binary cannot be downloaded here, so the hook runs on a file that carries Electron's real fuse wire
// format (sentinel, version, length, one byte per fuse, all enabled as in a stock binary), and @electron/fuses
// reads the result back.
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stockBinary(dir: string, name: string, fuses = 9): string {
  const wire = Buffer.alloc(fuses, FuseState.ENABLE);
  const path = join(dir, name);
  writeFileSync(
    path,
    Buffer.concat([Buffer.alloc(4096, 0x90), Buffer.from(SENTINEL), Buffer.from([1, fuses]), wire, Buffer.alloc(4096, 0x90)])
  );
  return path;
}

describe('Electron fuses', () => {
  it('the config turns off RunAsNode, NODE_OPTIONS and --inspect, and requires asar integrity', () => {
    expect(FUSES[FuseV1Options.RunAsNode]).toBe(false);
    expect(FUSES[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(false);
    expect(FUSES[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
    expect(FUSES[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(true);
    expect(FUSES[FuseV1Options.OnlyLoadAppFromAsar]).toBe(true);
    expect(FUSES[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(false);
    expect(FUSES.strictlyRequireAllFuses).toBe(true);
  });

  it('the afterPack hook burns them into the packaged Linux binary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keydesk-fuses-'));
    dirs.push(dir);
    const bin = stockBinary(dir, 'keydesk');
    await afterPack({
      appOutDir: dir,
      electronPlatformName: 'linux',
      packager: { appInfo: { productFilename: 'Keydesk' }, executableName: 'keydesk' }
    });
    const wire = await getCurrentFuseWire(bin);
    expect(wire[FuseV1Options.RunAsNode]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableNodeCliInspectArguments]).toBe(FuseState.DISABLE);
    expect(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(FuseState.ENABLE);
    expect(wire[FuseV1Options.OnlyLoadAppFromAsar]).toBe(FuseState.ENABLE);
  });

  it('a binary with a fuse this config does not decide fails the build instead of shipping it undecided', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keydesk-fuses-'));
    dirs.push(dir);
    stockBinary(dir, 'keydesk', 10);
    await expect(
      afterPack({
        appOutDir: dir,
        electronPlatformName: 'linux',
        packager: { appInfo: { productFilename: 'Keydesk' }, executableName: 'keydesk' }
      })
    ).rejects.toThrow(/strictlyRequireAllFuses/);
  });

  it('finds the binary on each platform, and the builder config runs the hook', () => {
    const ctx = (p: string) => ({
      appOutDir: '/o',
      electronPlatformName: p,
      packager: { appInfo: { productFilename: 'Keydesk' }, executableName: 'keydesk' }
    });
    expect(electronBinaryPath(ctx('linux'))).toBe('/o/keydesk');
    expect(electronBinaryPath(ctx('win32'))).toBe('/o/Keydesk.exe');
    expect(electronBinaryPath(ctx('darwin'))).toBe('/o/Keydesk.app');
    expect(builderConfig.afterPack).toBe('./build/after-pack.mjs');
    expect(builderConfig.asar).toBe(true);
  });
});
