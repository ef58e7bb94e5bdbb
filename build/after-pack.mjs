// electron-builder afterPack hook: burn the fuses into the packaged binary (see build/fuses.mjs).
import { applyFuses, electronBinaryPath } from './fuses.mjs';

export default async function afterPack(context) {
  const binary = electronBinaryPath(context);
  const flipped = await applyFuses(binary, context.electronPlatformName);
  if (flipped < 1) throw new Error(`No fuse wire found in ${binary}`);
}
