/**
 * `GET /`: a small self-contained dashboard (no build step, no outside assets). It reads
 * `/api/builds` every few seconds and shows the builds in a table; a click on a build shows its
 * record and log.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>buildfleet</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; }
  form { margin-bottom: 1rem; display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
  input, select { font: inherit; padding: .2rem .4rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd; white-space: nowrap; }
  th { background: #f4f4f4; }
  tr.build { cursor: pointer; }
  tr.build:hover { background: #f9f9f9; }
  .state { font-weight: 600; }
  .succeeded, .published { color: #1a7f37; }
  .failed, .timed-out, .unresolvable { color: #cf222e; }
  .cancelled, .superseded { color: #777; }
  .building, .preparing, .uploading, .claimed { color: #0969da; }
  #status { color: #777; margin-left: auto; }
  pre { background: #f6f8fa; padding: .8rem; overflow: auto; max-height: 30rem; }
</style>
</head>
<body>
<h1>buildfleet builds</h1>
<form id="filter">
  <label>project prefix <input name="projectPrefix" size="30" placeholder="projects/demo/"></label>
  <label>state <select name="state"><option value="">any</option></select></label>
  <label>limit <input name="limit" type="number" min="1" max="1000" value="100" size="5"></label>
  <span id="status">loading…</span>
</form>
<table>
  <thead><tr><th>updated</th><th>project</th><th>target</th><th>state</th><th>attempt</th><th>runner</th><th>build</th></tr></thead>
  <tbody id="builds"></tbody>
</table>
<div id="detail"></div>
<script>
  const states = ['submitted','waiting','queued','claimed','preparing','building','uploading','succeeded',
    'published','failed','cancelled','superseded','timed-out','unresolvable'];
  const form = document.getElementById('filter');
  for (const s of states) form.state.append(new Option(s, s));
  const text = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  async function refresh() {
    const params = new URLSearchParams();
    for (const name of ['projectPrefix', 'state', 'limit']) if (form[name].value) params.set(name, form[name].value);
    try {
      const response = await fetch('api/builds?' + params);
      const body = await response.json();
      if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
      document.getElementById('builds').innerHTML = body.builds.map((b) =>
        '<tr class="build" data-id="' + text(b.buildId) + '"><td>' + text(new Date(b.updatedAt).toLocaleString()) +
        '</td><td>' + text(b.project) + '</td><td>' + text(b.target.dist + '.' + b.target.arch) +
        '</td><td class="state ' + text(b.state) + '">' + text(b.state) + '</td><td>' + text(b.attempt) +
        '</td><td>' + text(b.runnerId) + '</td><td><code>' + text(b.buildId.slice(0, 8)) + '</code></td></tr>').join('');
      document.getElementById('status').textContent = body.builds.length + (body.truncated ? '+' : '') +
        ' builds, ' + new Date().toLocaleTimeString();
    } catch (error) {
      document.getElementById('status').textContent = 'not available: ' + error.message;
    }
  }
  async function show(id) {
    const record = await (await fetch('api/builds/' + encodeURIComponent(id))).json();
    const log = await (await fetch('api/builds/' + encodeURIComponent(id) + '/log')).text();
    const artifacts = (record.artifacts || []).map((a) => '<li><a href="api/builds/' + encodeURIComponent(id) +
      '/artifacts/' + encodeURIComponent(a.name) + '">' + text(a.name) + '</a> (' + text(a.size) + ' bytes)</li>').join('');
    document.getElementById('detail').innerHTML = '<h2>' + text(record.buildKey) + '</h2><ul>' + artifacts +
      '</ul><pre>' + text(JSON.stringify(record, null, 2)) + '</pre><h3>log</h3><pre>' + text(log.slice(-100000)) + '</pre>';
  }
  document.getElementById('builds').addEventListener('click', (e) => {
    const row = e.target.closest('tr.build');
    if (row) show(row.dataset.id);
  });
  form.addEventListener('change', refresh);
  form.addEventListener('submit', (e) => { e.preventDefault(); refresh(); });
  refresh();
  setInterval(refresh, 3000);
</script>
</body>
</html>
`;
