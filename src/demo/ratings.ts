/**
 * ratings: the stars each reviewer gave (bookinfo's ratings v1), `GET /ratings/<id>`. A leaf
 * service, and the one the fault injection tasks delay and abort.
 */
import { sendJson, productId, type Handler } from './serve.js';

export const RATINGS: Readonly<Record<string, number>> = { Reviewer1: 5, Reviewer2: 4 };

export const ratingsHandler: Handler = (req, res, url) => {
  if (url.pathname === '/health') return sendJson(res, 200, { status: 'Ratings is healthy' });
  const id = productId(url.pathname, '/ratings');
  if (id === undefined || req.method !== 'GET') return sendJson(res, 404, { error: 'not found' });
  if (id === 'invalid') return sendJson(res, 400, { error: 'please provide numeric product ID' });
  sendJson(res, 200, { id, ratings: RATINGS });
};
