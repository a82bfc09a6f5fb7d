/**
 * DestinationRule's LoadBalancerSettings (networking/v1alpha3/destination_rule.proto) and Istio's
 * validateLoadBalancer, ValidateLocalityLbSetting and ValidateZoneAwareLbSetting checks.
 */
import type { FieldPath } from '../../lib/field-path.js';
import type { ValidationContext } from '../resource.js';
import { z, uint32, duration } from '../schema.js';
import { onlyOneOf, msDuration } from './networking-checks.js';

const uint64 = z.number().int().min(0);

export const simpleLb = z.enum(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST']);
/** `LEAST_CONN` is a deprecated alias of `LEAST_REQUEST`. */
export type SimpleLb = z.output<typeof simpleLb>;

export const httpCookie = z.strictObject({
  name: z.string(),
  path: z.string().optional(),
  // No lower bound: a zero TTL makes a session cookie.
  ttl: duration({ min: 0 }).optional(),
  attributes: z.array(z.strictObject({ name: z.string(), value: z.string().optional() })).optional(),
});
export type HttpCookie = z.output<typeof httpCookie>;

const HASH_KEYS = ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'];
const HASH_ALGORITHMS = ['ringHash', 'maglev'];

export const consistentHashLb = z
  .strictObject({
    httpHeaderName: z.string().optional(),
    httpCookie: httpCookie.optional(),
    useSourceIp: z.boolean().optional(),
    httpQueryParameterName: z.string().optional(),
    ringHash: z.strictObject({ minimumRingSize: uint64.optional() }).optional(),
    maglev: z.strictObject({ tableSize: uint64.optional() }).optional(),
    /** @deprecated use ringHash.minimumRingSize */
    minimumRingSize: uint64.optional(),
  })
  .superRefine(onlyOneOf(HASH_KEYS))
  .superRefine(onlyOneOf(HASH_ALGORITHMS));
export type ConsistentHashLb = z.output<typeof consistentHashLb>;

const failover = z.strictObject({ from: z.string().optional(), to: z.string().optional() });

export const localityLbSetting = z.strictObject({
  distribute: z.array(z.strictObject({ from: z.string().optional(), to: z.record(z.string(), uint32).optional() })).optional(),
  failover: z.array(failover).optional(),
  failoverPriority: z.array(z.string()).optional(),
  enabled: z.boolean().optional(),
});
export type LocalityLbSetting = z.output<typeof localityLbSetting>;

export const zoneAwareLbSetting = z.strictObject({
  enabled: z.boolean().optional(),
  failover: z.array(failover).optional(),
  failoverPriority: z.array(z.string()).optional(),
  minClusterSize: z.number().int().min(1).optional(),
});
export type ZoneAwareLbSetting = z.output<typeof zoneAwareLbSetting>;

export const warmupConfiguration = z.strictObject({
  duration: msDuration(),
  minimumPercent: z.number().min(0).max(100, 'minimumPercent value should be less than or equal to 100').optional(),
  aggression: z.number().gt(0, 'aggression should be greater than 0').optional(),
});

export const loadBalancerSettings = z
  .strictObject({
    simple: simpleLb.optional(),
    consistentHash: consistentHashLb.optional(),
    localityLbSetting: localityLbSetting.optional(),
    zoneAwareLbSetting: zoneAwareLbSetting.optional(),
    /** @deprecated use warmup.duration */
    warmupDurationSecs: duration().optional(),
    warmup: warmupConfiguration.optional(),
  })
  .superRefine(onlyOneOf(['simple', 'consistentHash']))
  .superRefine(onlyOneOf(['localityLbSetting', 'zoneAwareLbSetting'], 'only one of localityLbSetting and zoneAwareLbSetting can be set'))
  .superRefine(onlyOneOf(['warmupDurationSecs', 'warmup'], 'only one of warmupDurationSecs or warmup can be set'));
export type LoadBalancerSettings = z.output<typeof loadBalancerSettings>;

/** Envoy's own primality test (Istio copies it), so Maglev table sizes are judged the same way. */
function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  const limit = Math.floor(Math.sqrt(x));
  for (let f = 3; f <= limit; f += 2) if (x % f === 0) return false;
  return true;
}

const TOPOLOGY_LABELS = new Set(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']);

/** Istio's validateLoadBalancer; `hasOutlier` tells whether the same policy sets outlierDetection. */
export function checkLoadBalancer(ctx: ValidationContext, path: FieldPath, lb: LoadBalancerSettings | undefined, hasOutlier: boolean): void {
  if (!lb) return;
  const hash = lb.consistentHash;
  if (hash) {
    const hp = [...path, 'consistentHash'];
    const names = new Set<string>();
    hash.httpCookie?.attributes?.forEach((attr, i) => {
      const ap = [...hp, 'httpCookie', 'attributes', i, 'name'];
      if (attr.name === '') ctx.error(ap, 'cookie attribute name cannot be empty');
      else if (names.has(attr.name)) ctx.error(ap, `duplicate cookie attribute name: ${attr.name}`);
      else names.add(attr.name);
    });
    if (hash.httpCookie && hash.httpCookie.name === '') ctx.error([...hp, 'httpCookie', 'name'], 'name required for HttpCookie');
    const legacyRing = hash.minimumRingSize;
    if (legacyRing !== undefined && legacyRing !== 0) {
      ctx.warning([...hp, 'minimumRingSize'], "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead");
      if (hash.ringHash || hash.maglev) ctx.error([...hp, 'minimumRingSize'], 'only one of MinimumRingSize or Maglev/Ringhash can be specified');
    }
    if (hash.maglev) {
      const size = hash.maglev.tableSize ?? 0;
      const mp = [...hp, 'maglev', 'tableSize'];
      if (size === 0) ctx.error([...hp, 'maglev'], 'tableSize must be set for maglev');
      if (size >= 5000011) ctx.error(mp, 'tableSize must be less than 5000011 for maglev');
      if (!isPrime(size)) ctx.error(size === 0 ? [...hp, 'maglev'] : mp, 'tableSize must be a prime number for maglev');
    }
  }
  checkLocalityLb(ctx, [...path, 'localityLbSetting'], lb.localityLbSetting, hasOutlier);
  checkZoneAwareLb(ctx, [...path, 'zoneAwareLbSetting'], lb.zoneAwareLbSetting, hasOutlier);
}

function checkFailover(ctx: ValidationContext, path: FieldPath, list: z.output<typeof failover>[] | undefined, what: string, onlyRegion: string): void {
  list?.forEach((f, i) => {
    const from = f.from ?? '';
    const to = f.to ?? '';
    if (from === to) ctx.error([...path, i], `${what} failover settings must specify different regions`);
    if (from.includes('/') || to.includes('/')) ctx.error([...path, i], onlyRegion);
    if (from.includes('*') || to.includes('*')) ctx.error([...path, i], `${what} failover region should not contain '*' wildcard`);
  });
}

/** Istio's ValidateLocalityLbSetting (which stops at the first structural problem, as here). */
function checkLocalityLb(ctx: ValidationContext, path: FieldPath, lb: LocalityLbSetting | undefined, hasOutlier: boolean): void {
  if (!lb) return;
  const distribute = lb.distribute ?? [];
  const failovers = lb.failover ?? [];
  const priority = lb.failoverPriority ?? [];
  if (distribute.length > 0 && failovers.length > 0) {
    ctx.error(path, "can not simultaneously specify 'distribute' and 'failover'");
    return;
  }
  if (failovers.length > 0) {
    const i = priority.findIndex((l) => TOPOLOGY_LABELS.has(l));
    if (i >= 0) {
      ctx.error([...path, 'failoverPriority', i], `can not simultaneously set 'failover' and topology label '${priority[i]}' in 'failover_priority'`);
      return;
    }
  }
  for (const [d, entry] of distribute.entries()) {
    const dp = [...path, 'distribute', d];
    let total = 0;
    for (const [loc, weight] of Object.entries(entry.to ?? {})) {
      if (weight <= 0 || weight > 100) {
        ctx.error([...dp, 'to', loc], 'locality weight must be in range [1, 100]');
        return;
      }
      total += weight;
    }
    if (total !== 100) {
      ctx.error([...dp, 'to'], `total locality weight ${total} != 100`);
      return;
    }
    const problem = localitiesProblem(Object.keys(entry.to ?? {}));
    if (problem) ctx.error([...dp, 'to'], problem);
  }
  const fromProblem = localitiesProblem(distribute.map((d) => d.from ?? ''));
  if (fromProblem) ctx.error([...path, 'distribute'], fromProblem);
  if ((failovers.length > 0 || priority.length > 0) && !hasOutlier) ctx.warning(path, 'outlier detection policy must be provided for failover');
  checkFailover(ctx, [...path, 'failover'], lb.failover, 'locality lb', 'locality lb failover only specify region');
}

/** Istio's ValidateZoneAwareLbSetting. */
function checkZoneAwareLb(ctx: ValidationContext, path: FieldPath, lb: ZoneAwareLbSetting | undefined, hasOutlier: boolean): void {
  if (!lb) return;
  lb.failoverPriority?.forEach((l, i) => {
    if (TOPOLOGY_LABELS.has(l)) {
      ctx.error([...path, 'failoverPriority', i], `'failover_priority' for zone aware lb must not use topology label '${l}'; region- and zone-level routing are handled automatically`);
    }
  });
  if (((lb.failover?.length ?? 0) > 0 || (lb.failoverPriority?.length ?? 0) > 0) && !hasOutlier) {
    ctx.warning(path, 'outlier detection policy must be provided for failover');
  }
  checkFailover(ctx, [...path, 'failover'], lb.failover, 'zone aware lb', 'zone aware lb failover only specifies region; zone and subzone failover are handled automatically');
}

/** Istio's validateLocalities: `region/zone/subzone` with at most one trailing `*`, no overlaps. */
function localitiesProblem(localities: string[]): string | undefined {
  const seen = new Map<string, Map<string, Set<string>>>();
  for (const locality of localities) {
    const stars = (locality.match(/\*/g) ?? []).length;
    if (stars > 0 && (stars > 1 || !locality.endsWith('*'))) return `locality ${locality} wildcard '*' number can not exceed 1 and must be in the end`;
    if (seen.has('*')) return `locality ${locality} overlap with previous specified ones`;
    const items = splitN(locality, '/', 3);
    if (items.some((it) => it === '')) return `locality ${locality} must not contain empty region/zone/subzone info`;
    const [region = '', zone = '', subzone = ''] = items;
    const zones = seen.get(region);
    if (items.length === 1) {
      if (zones) return `locality ${locality} overlap with previous specified ones`;
      seen.set(region, new Map([['*', new Set(['*'])]]));
    } else if (items.length === 2) {
      if (zones) {
        if (zones.has('*') || zones.has(zone)) return `locality ${locality} overlap with previous specified ones`;
        zones.set(zone, new Set(['*']));
      } else {
        seen.set(region, new Map([[zone, new Set(['*'])]]));
      }
    } else if (zones) {
      if (zones.has('*')) return `locality ${locality} overlap with previous specified ones`;
      const subzones = zones.get(zone);
      if (subzones) {
        if (subzones.has('*') || subzones.has(subzone)) return `locality ${locality} overlap with previous specified ones`;
        subzones.add(subzone);
      } else {
        zones.set(zone, new Set([subzone]));
      }
    } else {
      seen.set(region, new Map([[zone, new Set([subzone])]]));
    }
  }
  return undefined;
}

/** Go's strings.SplitN. */
function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}
