/**
 * `buildfleet runner --config <file>` as a real process: it builds a request from Kafka and stops
 * gracefully (exit 0) on SIGTERM. Host buildroot, filesystem store.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exampleSourcesRepo, testRequest } from '../harness/cluster-fixtures.ts';
import { startTestCluster } from '../harness/cluster.ts';
import { runnerConfigYaml } from '../harness/service-config.ts';
import { useKafka } from '../harness/kafka.ts';
import { waitFor } from '../harness/wait.ts';

const { brokers } = await useKafka();
const bin = fileURLToPath(new URL('../../bin/buildfleet.js', import.meta.url));

describe('buildfleet runner --config (process)', { timeout: 300_000 }, () => {
  it('builds a request from Kafka, then shuts down gracefully on SIGTERM', async () => {
    const cluster = await startTestCluster({ brokers, name: 'runner-process' });
    const { prefix, events } = cluster;
    try {
      const repo = await exampleSourcesRepo(cluster.repos);
      const commit = await repo.commit('sources');
      const dir = await cluster.repos.tempDir('runner');
      const config = join(dir, 'runner.yml');
      const storeRoot = join(dir, 'store');
      const yaml = runnerConfigYaml({
        brokers,
        prefix,
        id: 'process-runner',
        dir,
        storeRoot,
        slots: 1,
        heartbeatMs: 1000,
        metrics: true,
      });
      await writeFile(config, yaml);
      const child = spawn(process.execPath, [bin, 'runner', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        await waitFor(() => output.includes('runner: ready'), `the runner to be ready:\n${output}`, 60_000);
        const request = testRequest({
          project: 'projects/demo/hello-rpm',
          dist: 'rpm-bookworm',
          kind: 'rpm',
          url: repo.url,
          commit,
          leaseMs: 30_000,
        });
        await cluster.request(request);
        await waitFor(
          () => events.some((e) => e.buildId === request.buildId && (e.state === 'succeeded' || e.state === 'failed')),
          'the build to end',
          120_000,
        );
        const end = events.find((e) => e.buildId === request.buildId && e.state === 'succeeded');
        assert.ok(end, `succeeded: ${JSON.stringify(events.at(-1))}`);
        assert.equal(end.runnerId, 'process-runner');
        // The runner logs the end after it published the event the test saw.
        await waitFor(() => output.includes('"msg":"runner: build ended"'), 'the runner to log the end', 10_000);
        assert.match(output, /host buildroot/i, 'the host buildroot says it is not isolated');

        // Its Prometheus endpoint counts what it did.
        const url = /"url":"(http:[^"]+)","msg":"runner: metrics served"/.exec(output)?.[1];
        assert.ok(url, 'the metrics URL is logged');
        const metricsText = await (await fetch(`${url}/metrics`)).text();
        assert.match(metricsText, /^buildfleet_builds_total\{state="succeeded"[^}]*\} 1$/m);
        assert.match(metricsText, /^buildfleet_runner_slots\{state="free"[^}]*\} 1$/m);
        assert.match(metricsText, /^buildfleet_build_duration_seconds_count\{[^}]*outcome="succeeded"[^}]*\} 1$/m);

        child.kill('SIGTERM');
        const code = await Promise.race([
          exited,
          new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000)),
        ]);
        assert.equal(code, 0, `graceful exit:\n${output.slice(-2000)}`);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    } finally {
      await cluster.stop();
    }
  });
});
