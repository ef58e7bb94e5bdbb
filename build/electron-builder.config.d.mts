declare const config: { afterPack: string; asar: boolean } & Record<string, unknown>;
export default config;
