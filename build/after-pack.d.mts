import type { AfterPackLike } from './fuses.mjs';

export default function afterPack(context: AfterPackLike): Promise<void>;
