// Electron fuses for packaged builds (applied by build/after-pack.mjs). Fuses are bits in the Electron binary
// itself, so they hold even if someone starts the app with extra flags or environment variables.
import { join } from 'node:path';
import { FuseV1Options, FuseVersion, flipFuses } from '@electron/fuses';

/** Every fuse set explicitly (strictlyRequireAllFuses): a newer Electron with a new fuse fails the build until it is decided. */
export const FUSES = Object.freeze({
  version: FuseVersion.V1,
  strictlyRequireAllFuses: true,
  // ELECTRON_RUN_AS_NODE would turn the signed app into a general-purpose Node interpreter.
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableCookieEncryption]: true,
  // NODE_OPTIONS could preload arbitrary code into the main process.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  // --inspect would let anyone attach a debugger to the process that holds the vault key.
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  // The app is served from app://, never file://.
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  [FuseV1Options.WasmTrapHandlers]: true
});

/** The packaged Electron binary electron-builder just wrote, per platform. */
export function electronBinaryPath(context) {
  const name = context.packager.appInfo.productFilename;
  switch (context.electronPlatformName) {
    case 'darwin':
    case 'mas':
      return join(context.appOutDir, `${name}.app`);
    case 'win32':
      return join(context.appOutDir, `${name}.exe`);
    default:
      return join(context.appOutDir, context.packager.executableName);
  }
}

export async function applyFuses(binaryPath, platform) {
  // Flipping fuses invalidates an ad-hoc macOS signature; electron-builder signs after this hook on real builds.
  return flipFuses(binaryPath, { ...FUSES, resetAdHocDarwinSignature: platform === 'darwin' || platform === 'mas' });
}
