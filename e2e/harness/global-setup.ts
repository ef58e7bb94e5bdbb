import { buildForE2E } from './build.ts';

export default async function globalSetup(): Promise<void> {
  await buildForE2E();
}
