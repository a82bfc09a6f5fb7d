/**
 * The dashboard's one HTML page: a header with the four views and an empty main area the
 * scripts in web/ fill. Everything it loads is served by the dashboard itself (see server.ts).
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Weft dashboard</title>
<link rel="stylesheet" href="/app/style.css">
<script type="module" src="/app/main.js"></script>
</head>
<body>
<header>
  <strong class="brand">Weft</strong>
  <nav>
    <a href="#/graph" data-view="graph">Graph</a>
    <a href="#/workloads" data-view="workloads">Workloads</a>
    <a href="#/traces" data-view="traces">Traces</a>
    <a href="#/config" data-view="config">Config</a>
  </nav>
  <label>namespace <select id="namespace"><option value="">all</option></select></label>
  <span id="live" class="live" title="live updates">connecting</span>
</header>
<main id="view"></main>
</body>
</html>
`;
