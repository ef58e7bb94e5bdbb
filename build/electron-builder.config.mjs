// electron-builder configuration (`npx electron-builder --config build/electron-builder.config.mjs`).
// Packaging needs the Electron binary, which CI does not have; `npm run build` does not package.
/** @type {import('electron-builder').Configuration} */
export default {
  appId: 'com.agentsoc.keydesk',
  productName: 'Keydesk',
  directories: { output: 'dist', buildResources: 'build' },
  files: ['out/**/*', 'package.json', '!**/*.map'],
  asar: true,
  // Native modules (better-sqlite3, keytar) must live outside the archive to load.
  asarUnpack: ['**/*.node'],
  afterPack: './build/after-pack.mjs',
  extraMetadata: { main: 'out/main/index.js' },
  linux: { target: ['AppImage', 'deb'], category: 'Utility', executableName: 'keydesk' },
  mac: {
    target: ['dmg'],
    category: 'public.app-category.developer-tools',
    hardenedRuntime: true,
    entitlements: 'build/entitlements.mac.plist',
    entitlementsInherit: 'build/entitlements.mac.plist'
  },
  win: { target: ['nsis'] }
};
