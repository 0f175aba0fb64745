import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { isBuildfleetError } from '../../shared/errors/index.ts';
import { createMetrics, MetricNames, metricsHandler, startMetricsServer } from '../../shared/metrics/index.ts';

describe('createMetrics', () => {
  it('registers every named metric on its own registry, never the global one', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const registered = (await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name).sort();
    assert.deepEqual(registered, Object.values(MetricNames).sort());
    assert.equal((await globalRegistry.getMetricsAsJSON()).length, 0);
  });

  it('keeps two instances apart', async () => {
    const first = createMetrics({ processMetrics: false });
    const second = createMetrics({ processMetrics: false });
    first.builds.inc({ state: 'queued' });
    assert.match(await first.registry.metrics(), /^buildfleet_builds_total\{state="queued"\} 1$/m);
    assert.doesNotMatch(await second.registry.metrics(), /buildfleet_builds_total\{/);
  });

  it('adds process metrics and default labels when asked', async () => {
    const metrics = createMetrics({ defaultLabels: { service: 'scheduler' } });
    metrics.leaseExpiries.inc({ runner_group: 'arm' });
    const text = await metrics.registry.metrics();
    assert.match(text, /^process_cpu_user_seconds_total\{service="scheduler"\} /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds\{service="scheduler"\} /m);
    assert.match(text, /^buildfleet_lease_expiries_total\{runner_group="arm",service="scheduler"\} 1$/m);
  });

  it('records histograms in seconds', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.buildDuration.observe({ kind: 'deb', outcome: 'succeeded' }, 42);
    const text = await metrics.registry.metrics();
    assert.match(text, /^buildfleet_build_duration_seconds_bucket\{le="60",kind="deb",outcome="succeeded"\} 1$/m);
    assert.match(text, /^buildfleet_build_duration_seconds_bucket\{le="30",kind="deb",outcome="succeeded"\} 0$/m);
    assert.match(text, /^buildfleet_build_duration_seconds_sum\{kind="deb",outcome="succeeded"\} 42$/m);
  });
});

describe('startMetricsServer', () => {
  it('serves /metrics and /healthz and 404 elsewhere', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let healthy = true;
    const server = await startMetricsServer({ registry: metrics.registry, port: 0, isHealthy: () => healthy });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      metrics.busMessages.inc({ topic: 'buildfleet.events', direction: 'published' });
      metrics.busMessages.inc({ topic: 'buildfleet.events', direction: 'published' });

      const response = await fetch(`${server.url}/metrics`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), metrics.registry.contentType);
      assert.match(
        await response.text(),
        /^buildfleet_bus_messages_total\{topic="buildfleet\.events",direction="published"\} 2$/m,
      );

      const health = await fetch(`${server.url}/healthz`);
      assert.deepEqual([health.status, await health.text()], [200, 'ok\n']);
      healthy = false;
      assert.equal((await fetch(`${server.url}/healthz`)).status, 503);

      const missing = await fetch(`${server.url}/other`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
      const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
      assert.equal(post.status, 405);
      await post.body?.cancel();
    } finally {
      await server.close();
    }
    await server.close(); // second close is harmless
    await assert.rejects(fetch(`${server.url}/metrics`));
  });

  it('closes when its signal aborts', async () => {
    const controller = new AbortController();
    const server = await startMetricsServer({
      registry: createMetrics({ processMetrics: false }).registry,
      port: 0,
      signal: controller.signal,
    });
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    controller.abort();
    await server.close(); // the same close the abort started
    await assert.rejects(fetch(`${server.url}/healthz`));
  });

  it('reports a port that is taken as config-invalid', async () => {
    const registry = createMetrics({ processMetrics: false }).registry;
    const first = await startMetricsServer({ registry, port: 0 });
    try {
      await assert.rejects(
        startMetricsServer({ registry, port: first.port }),
        (error: unknown) => isBuildfleetError(error, 'config-invalid') && /EADDRINUSE/.test(error.message),
      );
    } finally {
      await first.close();
    }
  });
});

describe('metricsHandler', () => {
  it('serves the registry from another HTTP server', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.queueDepth.set({ runner_group: 'default', arch: 'x86_64' }, 7);
    const serve = metricsHandler(metrics.registry);
    const server = createServer((request, response) => {
      if (request.url === '/api/metrics') serve(request, response);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/api/metrics`);
      assert.match(await response.text(), /^buildfleet_queue_depth\{runner_group="default",arch="x86_64"\} 7$/m);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
