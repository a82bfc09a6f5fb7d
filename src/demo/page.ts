/**
 * productpage's HTML: the book, its details and its reviews, with the texts Istio's tasks tell a
 * user to look for ("Sorry, product reviews are currently unavailable for this book.", "Ratings
 * service is currently unavailable", black or red stars, "Signed in as jason"). Everything that
 * came from another service or the user is escaped.
 */
import type { Review } from './reviews.js';

export const PRODUCT = {
  id: 0,
  title: 'The Comedy of Errors',
  summary: 'Two sets of identical twins, separated at birth, converge on Ephesus in a single day. Shakespeare\'s shortest comedy, built on slapstick, mistaken identity and wordplay.',
} as const;

export const DETAILS_UNAVAILABLE = 'Sorry, product details are currently unavailable for this book.';
export const REVIEWS_UNAVAILABLE = 'Sorry, product reviews are currently unavailable for this book.';
export const RATINGS_UNAVAILABLE_FOR_BOOK = 'Sorry, product ratings are currently unavailable for this book.';

export interface PageData {
  user: string | undefined;
  details: Record<string, unknown> | undefined;
  reviews: { podname?: string; reviews: Review[] } | undefined;
}

export const STYLESHEET = `body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{display:flex;justify-content:space-between;align-items:center;padding:.6rem 1.5rem;background:#263238;color:#fff}
header form{display:flex;gap:.4rem}header a{color:#b3e5fc}
main{max-width:60rem;margin:1.5rem auto;padding:0 1.5rem}
.columns{display:grid;grid-template-columns:1fr 1fr;gap:2rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}dt{font-weight:600}
blockquote{margin:0 0 1.2rem;padding:.6rem 1rem;border-left:4px solid #90a4ae;background:#fff}
.stars{font-size:1.3rem;letter-spacing:.1rem}.error{color:#b71c1c}.served{color:#78909c;font-size:.85rem}
`;

export function renderProductPage(data: PageData): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Simple Bookstore App</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
${renderHeader(data.user)}
<main>
<h1>${escape(PRODUCT.title)}</h1>
<p>${escape(PRODUCT.summary)}</p>
<div class="columns">
<section id="details">
<h2>Book Details</h2>
${data.details ? renderDetails(data.details) : `<p class="error">${escape(DETAILS_UNAVAILABLE)}</p>`}
</section>
<section id="reviews">
<h2>Book Reviews</h2>
${data.reviews ? renderReviews(data.reviews) : `<p class="error">${escape(REVIEWS_UNAVAILABLE)}</p>`}
</section>
</div>
</main>
</body>
</html>
`;
}

export function renderIndex(): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Simple Bookstore App</title><link rel="stylesheet" href="/static/style.css"></head>
<body>
<main>
<h1>Hello! This is a simple bookstore application running on Weft.</h1>
<p>It is made of four services (productpage, details, reviews in three versions, ratings), each behind its own sidecar.</p>
<p><a href="/productpage">Open the product page</a>, then sign in as <code>jason</code> to be routed by the <code>end-user</code> header.</p>
</main>
</body>
</html>
`;
}

function renderHeader(user: string | undefined): string {
  const account = user === undefined
    ? `<form method="post" action="/login"><input name="username" placeholder="User name" required><input name="passwd" type="password" placeholder="Password"><button type="submit">Sign in</button></form>`
    : `<span>Signed in as <b>${escape(user)}</b> <a href="/logout">Sign out</a></span>`;
  return `<header><b>BookInfo Sample</b>${account}</header>`;
}

const DETAIL_FIELDS: readonly [string, string][] = [
  ['type', 'Type'],
  ['pages', 'Pages'],
  ['publisher', 'Publisher'],
  ['language', 'Language'],
  ['ISBN-10', 'ISBN-10'],
  ['ISBN-13', 'ISBN-13'],
];

function renderDetails(details: Record<string, unknown>): string {
  const rows = DETAIL_FIELDS.filter(([key]) => details[key] !== undefined)
    .map(([key, label]) => `<dt>${escape(label)}</dt><dd>${escape(String(details[key]))}</dd>`);
  return `<dl>${rows.join('')}</dl>`;
}

function renderReviews(answer: { podname?: string; reviews: Review[] }): string {
  const items = answer.reviews.map((r) => `<blockquote class="review">
<p>${escape(r.text)}</p>
<small>${escape(r.reviewer)}</small>
${r.rating ? renderRating(r.rating) : ''}
</blockquote>`);
  const served = answer.podname ? `<p class="served">Reviews served by: <span id="served-by">${escape(answer.podname)}</span></p>` : '';
  return `${items.join('\n')}\n${served}`;
}

function renderRating(rating: NonNullable<Review['rating']>): string {
  if ('error' in rating) return `<p class="error rating">${escape(rating.error)}</p>`;
  const stars = Math.max(0, Math.min(5, Math.round(rating.stars)));
  // The color is what the tasks look at (v2 black, v3 red); only a plain CSS color name passes.
  const color = /^[a-z]+$/i.test(rating.color) ? rating.color : 'black';
  return `<p><span class="stars" style="color: ${color}" title="${stars} of 5 stars">${'★'.repeat(stars)}${'☆'.repeat(5 - stars)}</span></p>`;
}

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
