/**
 * reviews: two reviews of the book, `GET /reviews/<id>`, in bookinfo's three versions: v1 shows
 * no ratings, v2 asks ratings and shows black stars, v3 red stars. Istio's tasks lean on its
 * timeouts to ratings: 10 s in v2 (so a 7 s delay still succeeds here and the page's own 3 s
 * timeout is what fails) and 2.5 s in v3. A failed ratings call shows "Ratings service is
 * currently unavailable" in place of the stars, as bookinfo does; the reviews still answer 200.
 */
import type { Logger } from '../lib/log.js';
import { forwardedHeaders } from './headers.js';
import { sendJson, productId, type Handler } from './serve.js';
import type { Env, Upstreams } from './upstream.js';

export const REVIEWS_VARIANTS = ['v1', 'v2', 'v3'] as const;
export type ReviewsVariant = (typeof REVIEWS_VARIANTS)[number];

export const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

export interface ReviewsSettings {
  ratingsEnabled: boolean;
  starColor: string;
  ratingsTimeoutMs: number;
  podName: string;
}

export type Rating = { stars: number; color: string } | { error: string };

export interface Review {
  reviewer: string;
  text: string;
  rating?: Rating;
}

export interface ReviewsAnswer {
  id: string;
  podname: string;
  clustername: string;
  reviews: Review[];
}

const REVIEWS: readonly { reviewer: string; text: string }[] = [
  { reviewer: 'Reviewer1', text: 'Two pairs of twins and one day of mistaken identities: the fastest farce Shakespeare wrote, and it still lands.' },
  { reviewer: 'Reviewer2', text: 'Great fun on stage, though it trades depth for pace next to the later comedies.' },
];

/**
 * A version's behaviour; bookinfo's own knobs (ENABLE_RATINGS, STAR_COLOR) override it, and
 * RATINGS_TIMEOUT_MS lets tests shorten the wait.
 */
export function reviewsSettings(variant: ReviewsVariant, env: Env, podName: string): ReviewsSettings {
  const ratingsEnabled = env.ENABLE_RATINGS !== undefined ? env.ENABLE_RATINGS === 'true' : variant !== 'v1';
  const starColor = env.STAR_COLOR ?? (variant === 'v3' ? 'red' : 'black');
  const timeout = Number(env.RATINGS_TIMEOUT_MS);
  const ratingsTimeoutMs = Number.isFinite(timeout) && timeout > 0 ? timeout : starColor === 'black' ? 10_000 : 2_500;
  return { ratingsEnabled, starColor, ratingsTimeoutMs, podName };
}

export function reviewsHandler(settings: ReviewsSettings, upstreams: Upstreams, log: Logger): Handler {
  const ratingsUrl = `${upstreams.baseUrl('ratings')}/ratings`;

  async function ratingsOf(id: number, headers: ReturnType<typeof forwardedHeaders>): Promise<Record<string, number> | undefined> {
    try {
      const got = await upstreams.get(`${ratingsUrl}/${id}`, headers, settings.ratingsTimeoutMs);
      if (got.status !== 200) {
        log.warn('ratings answered with an error', { url: ratingsUrl, status: got.status });
        return undefined;
      }
      const parsed = JSON.parse(got.body) as { ratings?: Record<string, unknown> };
      const out: Record<string, number> = {};
      for (const [name, stars] of Object.entries(parsed.ratings ?? {})) if (typeof stars === 'number') out[name] = stars;
      return out;
    } catch (err) {
      log.warn('cannot reach ratings', { url: ratingsUrl, error: (err as Error).message });
      return undefined;
    }
  }

  return async (req, res, url) => {
    if (url.pathname === '/health') return sendJson(res, 200, { status: 'Reviews is healthy' });
    const id = productId(url.pathname, '/reviews');
    if (id === undefined || req.method !== 'GET') return sendJson(res, 404, { error: 'not found' });
    if (id === 'invalid') return sendJson(res, 400, { error: 'please provide numeric product id' });
    const ratings = settings.ratingsEnabled ? await ratingsOf(id, forwardedHeaders(req.headers)) : undefined;
    const reviews = REVIEWS.map((r): Review => {
      if (!settings.ratingsEnabled) return { ...r };
      const stars = ratings?.[r.reviewer];
      return { ...r, rating: stars === undefined ? { error: RATINGS_UNAVAILABLE } : { stars, color: settings.starColor } };
    });
    const answer: ReviewsAnswer = { id: String(id), podname: settings.podName, clustername: 'null', reviews };
    sendJson(res, 200, answer);
  };
}
