/**
 * Is the original-destination addon (native/, built at `npm install`) there and loadable? The
 * sidecar needs it to serve transparently captured connections; the runtime asks before choosing
 * netns mode, so `weft up --network netns` can say why it cannot run instead of failing later.
 * (The proxy loads the addon itself; the runtime may not import proxy code.)
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ADDON_RELATIVE_PATH = join('native', 'build', 'weft_native.node');

/** The addon's path: WEFT_NATIVE_ADDON, else the first native/build/weft_native.node above this file. */
export function findNativeAddon(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.WEFT_NATIVE_ADDON) return existsSync(env.WEFT_NATIVE_ADDON) ? env.WEFT_NATIVE_ADDON : undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON_RELATIVE_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** undefined when the addon loads; otherwise why not, in words for the user. */
export function nativeAddonProblem(): string | undefined {
  const path = findNativeAddon();
  if (!path) return `the original-destination addon (${ADDON_RELATIVE_PATH}) is not built: install a C compiler (Debian: apt-get install gcc) and run \`npm install\` (or \`node native/build.mjs\`)`;
  try {
    const addon = createRequire(import.meta.url)(path) as { originalDestination?: unknown };
    if (typeof addon.originalDestination !== 'function') return `${path} is not Weft's addon`;
    return undefined;
  } catch (err) {
    return `${path} does not load: ${(err as Error).message}`;
  }
}
