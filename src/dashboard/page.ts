/**
 * The dashboard's one HTML page: an empty body the bundle (app.js and app.css, built by
 * `npm run build` from web/, see bundle.ts) fills. Everything it loads is served by the
 * dashboard itself (see server.ts).
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Weft dashboard</title>
<link rel="stylesheet" href="/app/app.css">
<script type="module" src="/app/app.js"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`;
