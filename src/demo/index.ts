/**
 * Weft's demo application, a bookinfo-style bookstore written for the mesh: four services that
 * each run as `weft demo <service>` in a pod (see bookinfo.yaml beside this file), listening on
 * 9080 at WEFT_BIND_ADDRESS and calling each other by service name, so Istio's bookinfo tasks
 * work against it with Istio's own sample files.
 */
import { hostname } from 'node:os';
import type { Logger } from '../lib/log.js';
import { repoPath } from '../lib/repo.js';
import { detailsHandler } from './details.js';
import { ratingsHandler } from './ratings.js';
import { REVIEWS_VARIANTS, reviewsHandler, reviewsSettings, type ReviewsVariant } from './reviews.js';
import { productPageHandler, productPageSettings } from './productpage.js';
import { serve, type DemoServer } from './serve.js';
import { Upstreams, type Env } from './upstream.js';

export { REVIEWS_VARIANTS, type ReviewsVariant, type DemoServer };

export const DEMO_SERVICES = ['productpage', 'details', 'reviews', 'ratings'] as const;
export type DemoService = (typeof DEMO_SERVICES)[number];

export const DEMO_PORT = 9080;

/** The demo's manifests, read at run time from the repository: the app, its gateway route, its subsets. */
export const DEMO_MANIFESTS = {
  bookinfo: repoPath('src', 'demo', 'bookinfo.yaml'),
  gateway: repoPath('src', 'demo', 'gateway.yaml'),
  destinationRules: repoPath('src', 'demo', 'destination-rule-all.yaml'),
} as const;

export interface DemoOptions {
  service: DemoService;
  /** reviews only. */
  variant?: ReviewsVariant;
  port?: number;
  host?: string;
  env?: Env;
  log: Logger;
}

export function isDemoService(name: string): name is DemoService {
  return (DEMO_SERVICES as readonly string[]).includes(name);
}

export function isReviewsVariant(name: string): name is ReviewsVariant {
  return (REVIEWS_VARIANTS as readonly string[]).includes(name);
}

export async function startDemoService(options: DemoOptions): Promise<DemoServer> {
  const env = options.env ?? process.env;
  const host = options.host ?? env.WEFT_BIND_ADDRESS ?? '0.0.0.0';
  const serveOptions = { port: options.port ?? DEMO_PORT, host, log: options.log };
  const upstreams = new Upstreams(env);
  const close = () => upstreams.close();
  switch (options.service) {
    case 'details':
      return serve('details', detailsHandler, serveOptions, close);
    case 'ratings':
      return serve('ratings', ratingsHandler, serveOptions, close);
    case 'reviews': {
      const variant = options.variant ?? 'v1';
      const podName = env.POD_NAME ?? env.HOSTNAME ?? `reviews-${variant}@${hostname()}`;
      return serve('reviews', reviewsHandler(reviewsSettings(variant, env, podName), upstreams, options.log), serveOptions, close);
    }
    case 'productpage':
      return serve('productpage', productPageHandler(productPageSettings(env), upstreams, options.log), serveOptions, close);
  }
}
