/**
 * details: the book's facts (bookinfo's details v1), `GET /details/<id>`. A leaf service: it
 * calls nobody, so it only has to answer.
 */
import { sendJson, productId, type Handler } from './serve.js';

export function bookDetails(id: number): Record<string, string | number> {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

export const detailsHandler: Handler = (req, res, url) => {
  if (url.pathname === '/health') return sendJson(res, 200, { status: 'Details is healthy' });
  const id = productId(url.pathname, '/details');
  if (id === undefined || req.method !== 'GET') return sendJson(res, 404, { error: 'not found' });
  if (id === 'invalid') return sendJson(res, 400, { error: 'please provide numeric product id' });
  sendJson(res, 200, bookDetails(id));
};
