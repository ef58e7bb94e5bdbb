import type { FuseV1Config } from '@electron/fuses';

export declare const FUSES: Readonly<FuseV1Config & { strictlyRequireAllFuses: true }>;
export interface AfterPackLike {
  appOutDir: string;
  electronPlatformName: string;
  packager: { appInfo: { productFilename: string }; executableName: string };
}
export declare function electronBinaryPath(context: AfterPackLike): string;
export declare function applyFuses(binaryPath: string, platform: string): Promise<number>;
