/** The JSON Schemas in docs/schemas: up to date, and the export's check and write modes. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportSchemas } from '../../shared/messages/export-schemas.ts';
import { JSON_SCHEMA_DIALECT, renderSchemaFiles, schemaId } from '../../shared/messages/json-schema.ts';
import { MessageTypes } from '../../shared/messages/index.ts';

describe('docs/schemas', () => {
  it('matches the schemas (npm run schemas regenerates it)', async () => {
    const result = await exportSchemas({ check: true });
    assert.deepEqual(result, { stale: [], missing: [], extra: [], upToDate: true });
  });
});

describe('rendered JSON Schemas', () => {
  const files = renderSchemaFiles();

  it('has one file per message type with $schema, $id, title and a trailing newline', () => {
    assert.deepEqual([...files.keys()], MessageTypes.map((type) => `${type}.json`).sort());
    for (const type of MessageTypes) {
      const text = files.get(`${type}.json`) ?? '';
      assert.ok(text.endsWith('}\n'));
      const document = JSON.parse(text) as Record<string, unknown>;
      assert.equal(document.$schema, JSON_SCHEMA_DIALECT);
      assert.equal(document.$id, schemaId(type, 1));
      assert.equal(document.title, `${type} v1`);
      assert.equal(typeof document.description, 'string');
      assert.equal(JSON.stringify(document, null, 2) + '\n', text);
    }
  });

  it('never forbids unknown fields, writes enums as enum and marks date-times', () => {
    const all = [...files.values()].join('\n');
    assert.ok(!all.includes('additionalProperties'));
    assert.ok(!all.includes('"const": "manual"'));
    const submit = JSON.parse(files.get('build.submit.json') ?? '{}') as {
      properties: Record<string, Record<string, unknown>>;
    };
    assert.deepEqual(submit.properties.reason?.enum, ['manual', 'source-change', 'dependency', 'retry']);
    assert.equal(submit.properties.at?.format, 'date-time');
    assert.deepEqual(Object.keys(submit.properties).slice(0, 4), ['v', 'type', 'submitId', 'project']);
  });

  it('renders the same text every time', () => {
    assert.deepEqual(renderSchemaFiles(), files);
  });
});

describe('exportSchemas', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'buildfleet-schemas-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes every file, then reports stale, missing and extra files without touching them in check mode', async () => {
    const first = await exportSchemas({ dir });
    assert.equal(first.missing.length, MessageTypes.length);
    assert.deepEqual(await exportSchemas({ dir, check: true }), { stale: [], missing: [], extra: [], upToDate: true });

    await writeFile(path.join(dir, 'build.event.json'), '{}\n');
    await rm(path.join(dir, 'log.chunk.json'));
    await writeFile(path.join(dir, 'build.teleport.json'), '{}\n');
    await writeFile(path.join(dir, 'README.txt'), 'not a schema\n');
    const before = await readdir(dir);
    const check = await exportSchemas({ dir, check: true });
    assert.deepEqual(check, {
      stale: ['build.event.json'],
      missing: ['log.chunk.json'],
      extra: ['build.teleport.json'],
      upToDate: false,
    });
    assert.deepEqual(await readdir(dir), before);
    assert.equal(await readFile(path.join(dir, 'build.event.json'), 'utf8'), '{}\n');

    const fix = await exportSchemas({ dir });
    assert.equal(fix.upToDate, true);
    assert.deepEqual((await readdir(dir)).sort(), [...renderSchemaFiles().keys(), 'README.txt'].sort());
    assert.deepEqual(await exportSchemas({ dir, check: true }), { stale: [], missing: [], extra: [], upToDate: true });
  });
});
