/**
 * `weft proxy`'s flags read without commander, from the same table commander registers
 * (PROXY_OPTIONS), for the proxy's own entry (proxy-entry.ts). It reads only a plain list of known
 * flags; anything else (--help, an unknown flag, a missing value, an operand) is left to the full
 * CLI, so every error message and the help stay commander's.
 */
import { PROXY_OPTIONS, type ProxyFlags } from './proxy.js';

interface Known {
  key: string;
  takesValue: boolean;
  negate: boolean;
}

const KNOWN: ReadonlyMap<string, Known> = new Map(PROXY_OPTIONS.map(([flags]) => {
  const [long = '', value] = flags.split(' ');
  const negate = long.startsWith('--no-');
  const name = negate ? long.slice('--no-'.length) : long.slice('--'.length);
  return [long, { key: name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), takesValue: value !== undefined, negate }];
}));

/**
 * The flags as commander would give them to the action, or undefined when commander must decide
 * (help, errors, anything this small reader does not know). `args` is what follows `proxy`.
 */
export function readProxyFlags(args: readonly string[]): ProxyFlags | undefined {
  const flags: Record<string, string | boolean> = {};
  for (const [spec, , fallback] of PROXY_OPTIONS) {
    const known = KNOWN.get(spec.split(' ')[0] ?? '');
    if (!known) return undefined;
    if (known.negate) flags[known.key] = true;
    else if (fallback !== undefined) flags[known.key] = fallback;
  }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const known = KNOWN.get(name);
    if (!known) return undefined;
    if (!known.takesValue) {
      if (eq > 0) return undefined;
      flags[known.key] = !known.negate;
      continue;
    }
    // As commander: `--flag=value`, else the next argument whatever it looks like.
    if (eq > 0) flags[known.key] = arg.slice(eq + 1);
    else if (i + 1 < args.length) flags[known.key] = args[++i] ?? '';
    else return undefined;
  }
  return flags as unknown as ProxyFlags;
}
