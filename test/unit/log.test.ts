import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BuildfleetError } from '../../shared/errors/index.ts';
import { createLogger, forBuild, type LogLevel } from '../../shared/log/index.ts';

/** A destination that keeps every line pino writes, parsed. */
function capture(): { write(line: string): void; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    write(line: string) {
      assert.ok(line.endsWith('\n'), 'one JSON object per line');
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
}

function loggerWithCapture(level?: LogLevel) {
  const destination = capture();
  const logger = createLogger({
    name: 'runner',
    destination,
    bindings: { instance: 'r-1' },
    ...(level ? { level } : {}),
  });
  return { logger, lines: destination.lines };
}

describe('createLogger', () => {
  it('writes JSON lines with level label, ISO time, name and bindings', () => {
    const { logger, lines } = loggerWithCapture();
    logger.info({ topic: 'buildfleet.events' }, 'consumer started');
    assert.equal(lines.length, 1);
    const [line] = lines;
    assert.equal(line?.['level'], 'info');
    assert.equal(line?.['name'], 'runner');
    assert.equal(line?.['instance'], 'r-1');
    assert.equal(line?.['pid'], process.pid);
    assert.equal(line?.['msg'], 'consumer started');
    assert.equal(line?.['topic'], 'buildfleet.events');
    assert.ok(!Number.isNaN(Date.parse(String(line?.['time']))));
    assert.match(String(line?.['time']), /^\d{4}-\d\d-\d\dT/);
  });

  it('drops lines below the configured level', () => {
    const { logger, lines } = loggerWithCapture('warn');
    logger.info('not written');
    logger.debug('not written');
    logger.warn('written');
    assert.deepEqual(
      lines.map((line) => line['msg']),
      ['written'],
    );
    assert.equal(createLogger({ name: 'x', destination: capture() }).level, 'info');
  });

  it('adds buildId, runnerId and attempt through forBuild', () => {
    const { logger, lines } = loggerWithCapture();
    forBuild(logger, { buildId: 'b-1', runnerId: 'runner-7', attempt: 2 }).info('building');
    forBuild(logger, { buildId: 'b-2' }).info('queued');
    assert.deepEqual(
      lines.map((line) => [line['buildId'], line['runnerId'], line['attempt'], line['msg']]),
      [
        ['b-1', 'runner-7', 2, 'building'],
        ['b-2', undefined, undefined, 'queued'],
      ],
    );
    assert.equal(Object.hasOwn(lines[1] ?? {}, 'runnerId'), false);
  });

  it('redacts secrets wherever they appear', () => {
    const { logger, lines } = loggerWithCapture();
    logger.info(
      {
        password: 'p0',
        config: {
          bus: { sasl: { username: 'u', password: 'p3' } },
          storage: { accessKeyId: 'AKIA', secretAccessKey: 's2' },
        },
        headers: { authorization: 'Bearer t' },
      },
      'config loaded',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['p0', 'p3', 's2', 'Bearer t']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    assert.ok(text.includes('AKIA'));
    assert.ok(text.includes('"username":"u"'));
  });

  it('serializes errors with code, retriable flag and context', () => {
    const { logger, lines } = loggerWithCapture();
    const cause = new Error('connection refused');
    const error = new BuildfleetError('bus-unavailable', 'cannot reach broker', {
      cause,
      context: { broker: 'k:9092' },
    });
    logger.error({ err: error }, 'bus down');
    const logged = lines[0]?.['err'] as Record<string, unknown>;
    // pino's serializer appends the cause's message and stack
    assert.equal(logged['message'], 'cannot reach broker: connection refused');
    assert.equal(logged['code'], 'bus-unavailable');
    assert.equal(logged['retriable'], true);
    assert.deepEqual(logged['context'], { broker: 'k:9092' });
    assert.match(String(logged['stack']), /BuildfleetError: cannot reach broker/);
    assert.match(String(logged['stack']), /caused by: Error: connection refused/);
  });
});
